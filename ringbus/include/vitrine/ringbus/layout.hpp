// Shared-memory layout of the Vitrine bus. Logic-free: fixed-width integers only (no enums,
// bool or pointers), explicit padding, static_asserts on every size and offset. Any change to
// anything in this file bumps kLayoutVersion.
//
// One region, created by the host on a memfd (or reached by the guest through an ivshmem BAR):
//
//   offset 0        +---------------------------------------------+
//                   | RegionHeader (256 B)                        |  written once by the host
//   256             +---------------------------------------------+
//                   | ChannelDesc[channel_count] (64 B each)      |  written once by the host
//                   +---------------------------------------------+  (page aligned from here)
//                   | channel 0: ring host->guest                 |
//                   |   RingControl (1 KiB) | data (2^n bytes)    |
//                   | channel 0: ring guest->host                 |
//                   |   RingControl (1 KiB) | data (2^n bytes)    |
//                   | channel 1 ...                               |
//                   +---------------------------------------------+  (page aligned)
//                   | surface pool (optional, surface_pool_size)  |  window pixels, guest-written
//                   +---------------------------------------------+
//
// The surface pool is where the guest's X server writes window pixels (MIT-SHM on the bus
// memory). The host offers surfaces by formatting a region with a pool (surface_pool_size > 0)
// and names the channel that carries the surface messages (surface_channel, never 0; no RDP
// connection is opened on it). Inside the pool the guest allocates; the host only reads pixels
// at offsets the surface messages name, after checking them against the pool bounds it copied
// from this header at attach. What the pool holds is never trusted beyond "some pixel values".
//
// RingControl keeps what each side writes on its own 128-byte block (two cache lines: the
// adjacent-line prefetcher pulls pairs), so the producer's stores never invalidate the line
// the consumer writes. The waiting flags get blocks of their own: they are written only when a
// side goes to sleep, so the other side's per-record check of the flag stays a cache hit
// instead of missing on the line where the positions move.
//
//   +0    tail (u64)                 written by the producer, every commit
//   +128  head (u64)                 written by the consumer, every release batch
//   +256  consumer_waiting (u32)     written by the consumer before and after it sleeps; the
//                                    producer sets it to 0 when it rings (one ring per sleep)
//   +384  producer_waiting (u32)     written by the producer before and after it sleeps; the
//                                    consumer sets it to 0 when it rings
//   +512  generation (u32)           written by the host (owner) on reset only
//   +640  reserved up to 1024
//
// Positions (head, tail) are monotonic 64-bit byte counts, masked by (size - 1) on use.
// Records inside the data area, 8-byte aligned:
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |                 length (payload bytes, u32)                   |
//   +-------------------------------+-------------------------------+
//   |          type (u16)           |          flags (u16)          |
//   +-------------------------------+-------------------------------+
//   |                payload ... padded to 8 bytes                  |
//
// type 0 is the padding record the producer writes when a record would cross the end of the
// data area; its length runs exactly to the end. Types 1..0xFFFF belong to the user of the ring.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace vitrine::ringbus {

inline constexpr std::uint64_t kMagic = 0x3153554254525456ull;  // "VTRTBUS1", little-endian
inline constexpr std::uint32_t kLayoutVersion = 2;  // 2: surface pool
inline constexpr std::uint32_t kMaxChannels = 256;
inline constexpr std::uint32_t kMinRingLog2 = 12;  // 4 KiB
inline constexpr std::uint32_t kMaxRingLog2 = 30;  // 1 GiB
inline constexpr std::uint64_t kRegionAlign = 4096;

// Feature bits in RegionHeader::features; a side refuses a region with bits it does not know.
inline constexpr std::uint32_t kFeatureWakeupSuppression = 1u << 0;
inline constexpr std::uint32_t kKnownFeatures = kFeatureWakeupSuppression;

struct RegionHeader {
  std::uint64_t magic;            // kMagic
  std::uint32_t layout_version;   // kLayoutVersion
  std::uint32_t header_size;      // sizeof(RegionHeader)
  std::uint64_t region_size;      // bytes, multiple of kRegionAlign
  std::uint32_t channel_count;    // 1..kMaxChannels; channel 0 is the control channel
  std::uint32_t features;         // kFeature* bits
  std::uint64_t channel_table_offset;  // from region start
  std::uint32_t channel_desc_size;     // sizeof(ChannelDesc)
  std::uint32_t reserved0;
  std::uint64_t checksum;         // xxh3-64 of this header with checksum = 0
  std::uint64_t surface_pool_offset;  // from region start, page aligned (0 with no pool)
  std::uint64_t surface_pool_size;    // bytes, page multiple; 0: the host offers no surfaces
  std::uint32_t surface_channel;      // channel of the surface messages (0: no pool)
  std::uint32_t reserved1;
  std::uint8_t reserved[176];
};
static_assert(sizeof(RegionHeader) == 256);
static_assert(offsetof(RegionHeader, magic) == 0);
static_assert(offsetof(RegionHeader, layout_version) == 8);
static_assert(offsetof(RegionHeader, header_size) == 12);
static_assert(offsetof(RegionHeader, region_size) == 16);
static_assert(offsetof(RegionHeader, channel_count) == 24);
static_assert(offsetof(RegionHeader, features) == 28);
static_assert(offsetof(RegionHeader, channel_table_offset) == 32);
static_assert(offsetof(RegionHeader, channel_desc_size) == 40);
static_assert(offsetof(RegionHeader, reserved0) == 44);
static_assert(offsetof(RegionHeader, checksum) == 48);
static_assert(offsetof(RegionHeader, surface_pool_offset) == 56);
static_assert(offsetof(RegionHeader, surface_pool_size) == 64);
static_assert(offsetof(RegionHeader, surface_channel) == 72);
static_assert(offsetof(RegionHeader, reserved1) == 76);
static_assert(offsetof(RegionHeader, reserved) == 80);
static_assert(std::is_trivially_copyable_v<RegionHeader>);

// Where the two rings of one channel live. h2g: host produces, guest consumes; g2h: reverse.
struct ChannelDesc {
  std::uint64_t h2g_offset;   // of the ring's RingControl, from region start
  std::uint64_t g2h_offset;
  std::uint32_t h2g_log2;     // data area is 1 << log2 bytes
  std::uint32_t g2h_log2;
  std::uint32_t channel_id;   // equals the index in the table
  std::uint32_t reserved0;
  std::uint8_t reserved[32];
};
static_assert(sizeof(ChannelDesc) == 64);
static_assert(offsetof(ChannelDesc, h2g_offset) == 0);
static_assert(offsetof(ChannelDesc, g2h_offset) == 8);
static_assert(offsetof(ChannelDesc, h2g_log2) == 16);
static_assert(offsetof(ChannelDesc, g2h_log2) == 20);
static_assert(offsetof(ChannelDesc, channel_id) == 24);
static_assert(offsetof(ChannelDesc, reserved0) == 28);
static_assert(offsetof(ChannelDesc, reserved) == 32);
static_assert(std::is_trivially_copyable_v<ChannelDesc>);

// Accessed only through std::atomic_ref: the fields stay plain integers so the layout is
// exactly what the comments say on every compiler.
struct RingControl {
  std::uint64_t tail;               // bytes ever published (producer)
  std::uint8_t tail_pad[120];
  std::uint64_t head;               // bytes ever released (consumer)
  std::uint8_t head_pad[120];
  std::uint32_t consumer_waiting;   // 1 while the consumer sleeps for records (until rung)
  std::uint8_t consumer_wait_pad[124];
  std::uint32_t producer_waiting;   // 1 while the producer sleeps for space (until rung)
  std::uint8_t producer_wait_pad[124];
  std::uint32_t generation;         // bumped by the owner's reset; both sides restart at 0
  std::uint8_t generation_pad[124];
  std::uint8_t reserved[384];
};
static_assert(sizeof(RingControl) == 1024);
static_assert(offsetof(RingControl, tail) == 0);
static_assert(offsetof(RingControl, head) == 128);
static_assert(offsetof(RingControl, consumer_waiting) == 256);
static_assert(offsetof(RingControl, producer_waiting) == 384);
static_assert(offsetof(RingControl, generation) == 512);
static_assert(offsetof(RingControl, reserved) == 640);
static_assert(std::is_trivially_copyable_v<RingControl>);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
inline constexpr std::size_t kRingDataOffset = sizeof(RingControl);

struct RecordHeader {
  std::uint32_t length;  // payload bytes (header excluded)
  std::uint16_t type;    // kPaddingType or user type
  std::uint16_t flags;   // user defined
};
static_assert(sizeof(RecordHeader) == 8);
static_assert(offsetof(RecordHeader, length) == 0);
static_assert(offsetof(RecordHeader, type) == 4);
static_assert(offsetof(RecordHeader, flags) == 6);
static_assert(std::is_trivially_copyable_v<RecordHeader>);
inline constexpr std::uint16_t kPaddingType = 0;
inline constexpr std::size_t kRecordAlign = 8;

constexpr std::uint64_t align_record(std::uint64_t n) {
  return (n + kRecordAlign - 1) & ~std::uint64_t{kRecordAlign - 1};
}
// Bytes a record of `payload` bytes occupies in the data area.
constexpr std::uint64_t record_span(std::uint64_t payload) {
  return align_record(sizeof(RecordHeader) + payload);
}

}  // namespace vitrine::ringbus
