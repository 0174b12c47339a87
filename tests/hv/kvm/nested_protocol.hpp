// The record protocol of the nested KVM test (host test <-> program in the inner guest), on
// channel 0 of the bus:
//   guest -> host  type kHello: u32 online CPUs of the inner guest (sysconf), u32 0; first.
//   guest -> host  type kData:  u32 sequence, u32 length, then `length` bytes, then the xxh3-64
//                               of those bytes (8 bytes). kRecords records, lengths vary.
//   bench mode (bench_vm's nested run; nested-guest --bench, nested-launcher --serve):
//   guest -> host  type kPing:   u32 sequence, u32 mode (kModeDoorbell: the guest also rings
//                                BAR0's Doorbell; kModePoll: the host finds it by polling)
//   host -> guest  type kPong:   u32 sequence
//   guest -> host  type kResult: BenchResult
//   host -> guest  type kAck:   u32 records verified, u32 records bad, u64 xxh3 over all the
//                               checksums in order (the guest recomputes and compares).
#pragma once

#include <cstdint>

namespace vitrine::hv::kvm::nested {

inline constexpr std::uint16_t kData = 1;
inline constexpr std::uint16_t kAck = 2;
inline constexpr std::uint16_t kHello = 3;
inline constexpr std::uint16_t kPing = 4;
inline constexpr std::uint16_t kPong = 5;
inline constexpr std::uint16_t kResult = 6;
inline constexpr std::uint32_t kModeDoorbell = 1;
inline constexpr std::uint32_t kModePoll = 2;

// What the guest measured, in nanoseconds of guest time (means). All zero when the device has
// no doorbell (IVPosition -1, ivshmem-plain).
struct BenchResult {
  std::int32_t iv_position;
  std::uint32_t iterations;
  std::uint64_t doorbell_write_ns;  // one BAR0 Doorbell write: exit handled in the kernel (ioeventfd)
  std::uint64_t user_mmio_write_ns; // one BAR0 IntrMask write: exit to the VMM's user space
  std::uint64_t rtt_doorbell_ns;    // ping + doorbell -> host wakes on its eventfd -> pong seen
  std::uint64_t rtt_poll_ns;        // ping -> host polling the ring -> pong seen
};
static_assert(sizeof(BenchResult) == 40);
inline constexpr std::uint32_t kRecords = 200;
inline constexpr std::uint32_t kMaxPayload = 3000;
// Length of record `seq`: varied, deterministic, 1..kMaxPayload.
inline constexpr std::uint32_t payload_length(std::uint32_t seq) { return 1 + (seq * 977u + 13u) % kMaxPayload; }
// Byte `i` of record `seq`.
inline constexpr std::uint8_t payload_byte(std::uint32_t seq, std::uint32_t i) {
  return static_cast<std::uint8_t>((seq * 31u) ^ (i * 7u) ^ (i >> 8));
}

}  // namespace vitrine::hv::kvm::nested
