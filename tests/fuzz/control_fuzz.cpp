// fuzz-libs: vitrine_rdpmux_proto
// Control messages from a hostile peer: decode_control() must reject or accept without
// crashing, and whatever it accepts re-encodes to the same bytes (nothing read twice, no
// field left unchecked that encode would normalise). Covers the variable-length
// CatalogFragment (type 32) and CatalogRequest (33): an accepted fragment's header agrees with
// its record (length, offset + length <= total <= kMaxCatalogBytes). Also the timestamp
// messages ClockProbe (40) / ClockReply (41) and the data channels' Stamp record payload: an
// accepted stamp is causal (receive <= commit).
#include <cstdint>
#include <cstring>
#include <span>
#include <variant>

#include "vitrine/rdpmux/control_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto type = static_cast<std::uint16_t>(data[0] | data[1] << 8);
  std::span<const std::byte> payload(reinterpret_cast<const std::byte*>(data + 2), size - 2);
  auto m = vitrine::rdpmux::decode_control(type, payload);
  if (m) {
    const auto e = vitrine::rdpmux::encode_control(*m);
    const auto out = e.payload();
    if (e.type != type || e.size != payload.size() || out.size() != payload.size() ||
        std::memcmp(out.data(), payload.data(), out.size()) != 0)
      __builtin_trap();
    if (const auto* f = std::get_if<vitrine::rdpmux::CatalogFragmentMsg>(&*m)) {
      const auto& h = f->header;
      if (f->data().size() != h.length || h.length == 0 || std::uint64_t{h.offset} + h.length > h.total_size ||
          h.total_size > vitrine::rdpmux::kMaxCatalogBytes || f->record.size() > vitrine::rdpmux::kMaxCatalogFragmentBytes)
        __builtin_trap();
    }
  }
  auto end = vitrine::rdpmux::decode_end(payload);
  (void)end;
  if (auto stamp = vitrine::rdpmux::decode_stamp(payload); stamp && stamp->receive_ns > stamp->commit_ns)
    __builtin_trap();
  return 0;
}
