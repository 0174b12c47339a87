// fuzz-libs: fmt::fmt
// fuzz-sources: cli/src/launcher_protocol.cpp
// The launcher socket's line protocol (cli/src/launcher_protocol.*) against any request bytes a
// local client sends: decode_line either refuses with a message or gives fields that encode
// back to a line which decodes to the same fields; base64 decoding refuses or round-trips.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "launcher_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  if (auto fields = vitrine::cli::decode_line(line)) {
    std::string again = vitrine::cli::encode_line(*fields);
    if (again.empty() || again.back() != '\n') std::abort();
    again.pop_back();
    auto round = vitrine::cli::decode_line(again);
    if (!round || *round != *fields) std::abort();
  }
  if (auto bytes = vitrine::cli::base64_decode(line)) {
    auto text = vitrine::cli::base64_encode(*bytes);
    auto back = vitrine::cli::base64_decode(text);
    if (!back || *back != *bytes) std::abort();
  }
  return 0;
}
