// The record protocol of the nested KVM test (host test <-> program in the inner guest), on
// channel 0 of the bus:
//   guest -> host  type kData:  u32 sequence, u32 length, then `length` bytes, then the xxh3-64
//                               of those bytes (8 bytes). kRecords records, lengths vary.
//   host -> guest  type kAck:   u32 records verified, u32 records bad, u64 xxh3 over all the
//                               checksums in order (the guest recomputes and compares).
#pragma once

#include <cstdint>

namespace vitrine::hv::kvm::nested {

inline constexpr std::uint16_t kData = 1;
inline constexpr std::uint16_t kAck = 2;
inline constexpr std::uint32_t kRecords = 200;
inline constexpr std::uint32_t kMaxPayload = 3000;
// Length of record `seq`: varied, deterministic, 1..kMaxPayload.
inline constexpr std::uint32_t payload_length(std::uint32_t seq) { return 1 + (seq * 977u + 13u) % kMaxPayload; }
// Byte `i` of record `seq`.
inline constexpr std::uint8_t payload_byte(std::uint32_t seq, std::uint32_t i) {
  return static_cast<std::uint8_t>((seq * 31u) ^ (i * 7u) ^ (i >> 8));
}

}  // namespace vitrine::hv::kvm::nested
