// Recordings of bus traffic: `vitrine record` writes, `vitrine replay` reads.
//
// File layout (little-endian, fixed width):
//
//   FileHeader (64 B)   magic "VTRREC01", version, creation time, channel mask, xxh3 of the header
//   Block*              BlockHeader (40 B) + one LZ4 frame (lz4frame.h) of `raw_size` bytes
//
// Decompressed block = a run of entries, each 8-byte aligned:
//   EntryHeader (24 B) {u64 timestamp_ns, u32 channel, u16 direction, u16 type, u16 flags,
//                       u16 reserved, u32 length} + payload (length bytes) + padding to 8.
//
// Every block carries the xxh3-64 of its compressed bytes; the reader checks it before
// decompressing. Every error names the file offset where it was found.
#pragma once

#include <cstdint>
#include <cstdio>
#include <expected>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace vitrine::perf {

inline constexpr std::uint64_t kRecordingMagic = 0x31304345525254'56ull;  // "VTRREC01"
inline constexpr std::uint32_t kRecordingVersion = 1;
inline constexpr std::uint32_t kBlockMagic = 0x314b4c42;  // "BLK1"
inline constexpr std::uint32_t kMaxBlockRaw = 16u << 20;  // a reader refuses larger blocks

struct FileHeader {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint64_t created_unix_ns;
  std::uint64_t channel_mask;   // bit N: channel N was recorded (channels >= 64: bit 63)
  std::uint8_t reserved[24];
  std::uint64_t checksum;       // xxh3-64 of this header with checksum = 0
};
static_assert(sizeof(FileHeader) == 64);

struct BlockHeader {
  std::uint32_t magic;
  std::uint32_t compressed_size;
  std::uint32_t raw_size;
  std::uint32_t entry_count;
  std::uint64_t first_timestamp_ns;
  std::uint64_t last_timestamp_ns;
  std::uint64_t checksum;       // xxh3-64 of the compressed bytes
};
static_assert(sizeof(BlockHeader) == 40);

struct EntryHeader {
  std::uint64_t timestamp_ns;
  std::uint32_t channel;
  std::uint16_t direction;      // 0 host->guest, 1 guest->host
  std::uint16_t type;
  std::uint16_t flags;
  std::uint16_t reserved;
  std::uint32_t length;
};
static_assert(sizeof(EntryHeader) == 24);

struct Entry {
  std::uint64_t timestamp_ns = 0;
  std::uint32_t channel = 0;
  std::uint16_t direction = 0;
  std::uint16_t type = 0;
  std::uint16_t flags = 0;
  std::span<const std::byte> payload;  // valid during the callback only
};

struct RecordingError {
  std::uint64_t offset;   // byte offset in the file where the problem was found
  std::string message;
  std::string to_string() const;
};

template <typename T>
using RecordingResult = std::expected<T, RecordingError>;

class RecordingWriter {
 public:
  // Creates (truncates) `path`. Blocks are flushed when they reach `block_bytes` raw bytes.
  static RecordingResult<RecordingWriter> create(const std::string& path, std::uint64_t channel_mask,
                                                 std::size_t block_bytes = 1u << 20);
  RecordingWriter(RecordingWriter&&) noexcept;
  RecordingWriter& operator=(RecordingWriter&&) noexcept;
  ~RecordingWriter();

  RecordingResult<void> append(const Entry& entry);
  // Writes the pending block and fsyncs nothing (callers decide); close() also flushes.
  RecordingResult<void> flush();
  RecordingResult<void> close();
  std::uint64_t entries() const { return entries_; }

 private:
  RecordingWriter() = default;
  std::FILE* file_ = nullptr;
  std::vector<std::byte> block_;
  std::size_t block_limit_ = 0;
  std::uint32_t block_entries_ = 0;
  std::uint64_t first_ts_ = 0, last_ts_ = 0;
  std::uint64_t entries_ = 0;
  std::uint64_t offset_ = 0;
};

struct ReplayStats {
  std::uint64_t entries = 0;
  std::uint64_t blocks = 0;
  std::uint64_t payload_bytes = 0;
};

// Reads a whole recording, calling `sink` for every entry in order. The sink may return false
// to stop early. Any corruption, truncation or version mismatch is an error with its offset.
RecordingResult<ReplayStats> read_recording(const std::string& path,
                                            const std::function<bool(const Entry&)>& sink);

// Replay pacing: kFullSpeed delivers entries as fast as the sink takes them; kRealTime sleeps
// so that entries are delivered with the gaps between their timestamps.
enum class Pacing : std::uint8_t { kFullSpeed, kRealTime };
RecordingResult<ReplayStats> replay_recording(const std::string& path, Pacing pacing,
                                              const std::function<bool(const Entry&)>& sink);

}  // namespace vitrine::perf
