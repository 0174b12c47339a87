// fuzz-libs: vitrine_rdpmux_proto
// Control messages from a hostile peer: decode_control() must reject or accept without
// crashing, and whatever it accepts re-encodes to the same bytes (nothing read twice, no
// field left unchecked that encode would normalise).
#include <cstdint>
#include <cstring>
#include <span>

#include "vitrine/rdpmux/control_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto type = static_cast<std::uint16_t>(data[0] | data[1] << 8);
  std::span<const std::byte> payload(reinterpret_cast<const std::byte*>(data + 2), size - 2);
  auto m = vitrine::rdpmux::decode_control(type, payload);
  if (m) {
    const auto e = vitrine::rdpmux::encode_control(*m);
    if (e.type != type || e.size != payload.size() || std::memcmp(e.bytes.data(), payload.data(), e.size) != 0)
      __builtin_trap();
  }
  auto end = vitrine::rdpmux::decode_end(payload);
  (void)end;
  return 0;
}
