// fuzz-libs: vitrine_rdpmux_proto
// PduFramer on hostile streams: the first byte picks how the input is cut into feeds; the
// framer must never read past what it was given, never consume more than offered, and report
// errors instead of crashing. Split property: when the whole input frames, framing it in
// pieces gives the same PDU ends.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "vitrine/rdpmux/pdu_framer.hpp"

namespace {

std::vector<std::uint64_t> frame(std::span<const std::byte> data, std::size_t chunk, bool& ok) {
  vitrine::rdpmux::PduFramer f;
  std::vector<std::uint64_t> ends;
  ok = true;
  for (std::size_t pos = 0; pos < data.size();) {
    std::span<const std::byte> piece = data.subspan(pos, std::min(chunk, data.size() - pos));
    auto r = f.feed(piece);
    if (!r) {
      ok = false;
      return ends;
    }
    if (r->consumed == 0 || r->consumed > piece.size()) __builtin_trap();
    if (f.wanted() == 0) __builtin_trap();
    pos += r->consumed;
    if (r->pdu_complete) ends.push_back(f.offset());
  }
  return ends;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  bool ok_whole = false, ok_split = false;
  const auto whole = frame(stream, stream.size() + 1, ok_whole);
  const auto split = frame(stream, chunk, ok_split);
  if (ok_whole != ok_split) __builtin_trap();
  if (ok_whole && whole != split) __builtin_trap();
  return 0;
}
