// fuzz-libs: vitrine_ringbus
// libFuzzer target: a host consumer reading an arbitrary region image.
// Input byte 0 picks the mode:
//   even: the bytes are a whole region image: validate_region() must accept or reject it
//         without reading outside the buffer;
//   odd:  a valid two-channel region whose guest->host ring (control block and data) is
//         overwritten with the input: the host attaches, reads every record, checks that each
//         payload lies inside the ring's data area, and resets on faults.
// The region lives in a heap buffer of exactly its size, so ASan sees any access outside it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "vitrine/base/log.hpp"
#include "vitrine/ringbus/bus.hpp"

using namespace vitrine::ringbus;

namespace {

const std::vector<std::byte>& template_image() {
  static const std::vector<std::byte> image = [] {
    vitrine::base::set_log_sink([](vitrine::base::LogLevel, std::string_view) {});
    auto bus = Bus::create(BusConfig::uniform(2, 12, 12));
    if (!bus) std::abort();
    return std::vector<std::byte>(bus->base(), bus->base() + bus->size());
  }();
  return image;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    std::vector<std::byte> image(size - 1);
    if (size > 1) std::memcpy(image.data(), data + 1, size - 1);  // memcpy(nullptr, ..., 0) is UB
    auto layout = validate_region(image.data(), image.size());
    if (layout) {
      auto bus = Bus::attach_mapping(image.data(), image.size(), Side::kHost);
      if (!bus) std::abort();  // validated regions must attach
    }
    return 0;
  }
  std::vector<std::byte> image = template_image();
  auto bus0 = validate_region(image.data(), image.size());
  if (!bus0) std::abort();
  const ChannelDesc& d = bus0->channels[1];
  const std::size_t ring_bytes = kRingDataOffset + (std::size_t{1} << d.g2h_log2);
  std::memcpy(image.data() + d.g2h_offset, data + 1, std::min(size - 1, ring_bytes));
  auto bus = Bus::attach_mapping(image.data(), image.size(), Side::kHost);
  if (!bus) std::abort();
  Ring& rx = bus->channel(1).rx();
  const std::byte* lo = image.data() + d.g2h_offset + kRingDataOffset;
  const std::byte* hi = lo + (std::size_t{1} << d.g2h_log2);
  std::uint64_t sum = 0;
  for (int round = 0; round < 4; ++round) {
    auto n = rx.read([&](const RecordView& v) {
      if (v.payload.data() < lo || v.payload.data() + v.payload.size() > hi) std::abort();
      for (std::byte b : v.payload) sum += static_cast<std::uint8_t>(b);
    });
    if (!n) bus->channel(1).reset();
  }
  return static_cast<int>(sum & 0);
}
