// fuzz-libs: vitrine_catalog
// libFuzzer target: the .lnk parser (MS-SHLLINK) and the catalogue wire decoders, which
// all read bytes that come from the untrusted guest. Input byte 0 picks the decoder.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vitrine/rdpmux/catalog_wire.hpp"
#include "vitrine/catalog/lnk_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  auto bytes = std::as_bytes(std::span(data + 1, size - 1));
  switch (data[0] % 3) {
    case 0: {
      auto link = vitrine::catalog::parse_shell_link(bytes);
      if (link) (void)link->target();
      break;
    }
    case 1: (void)vitrine::catalog::decode_catalog(bytes); break;
    default: {
      vitrine::catalog::CatalogReassembler r;
      // Feed the input as a sequence of fragments cut at every 97 bytes.
      for (std::size_t off = 0; off < bytes.size(); off += 97) (void)r.add(bytes.subspan(off, std::min<std::size_t>(97, bytes.size() - off)));
      break;
    }
  }
  return 0;
}
