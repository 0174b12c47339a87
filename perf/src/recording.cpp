#include "vitrine/perf/recording.hpp"

#include <lz4frame.h>
#include <time.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "vitrine/base/clock.hpp"
#include "vitrine/perf/histogram.hpp"

namespace vitrine::perf {
namespace {

std::unexpected<RecordingError> fail(std::uint64_t offset, std::string message) {
  return std::unexpected(RecordingError{offset, std::move(message)});
}

std::uint64_t header_checksum(FileHeader h) {
  h.checksum = 0;
  return XXH3_64bits(&h, sizeof h);
}

constexpr std::size_t align8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

}  // namespace

std::string RecordingError::to_string() const {
  return "recording: " + message + " (at byte offset " + std::to_string(offset) + ")";
}

RecordingResult<RecordingWriter> RecordingWriter::create(const std::string& path, std::uint64_t channel_mask,
                                                         std::size_t block_bytes) {
  RecordingWriter w;
  w.file_ = std::fopen(path.c_str(), "wb");
  if (!w.file_) return fail(0, "cannot create " + path + ": " + std::strerror(errno));
  w.block_limit_ = std::min<std::size_t>(std::max<std::size_t>(block_bytes, 4096), kMaxBlockRaw / 2);
  FileHeader h{};
  h.magic = kRecordingMagic;
  h.version = kRecordingVersion;
  h.header_size = sizeof h;
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  h.created_unix_ns = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<std::uint64_t>(ts.tv_nsec);
  h.channel_mask = channel_mask;
  h.checksum = header_checksum(h);
  if (std::fwrite(&h, sizeof h, 1, w.file_) != 1) return fail(0, "cannot write the file header");
  w.offset_ = sizeof h;
  return w;
}

RecordingWriter::RecordingWriter(RecordingWriter&& o) noexcept
    : file_(std::exchange(o.file_, nullptr)),
      block_(std::move(o.block_)),
      block_limit_(o.block_limit_),
      block_entries_(o.block_entries_),
      first_ts_(o.first_ts_),
      last_ts_(o.last_ts_),
      entries_(o.entries_),
      offset_(o.offset_) {}

RecordingWriter& RecordingWriter::operator=(RecordingWriter&& o) noexcept {
  if (this != &o) {
    this->~RecordingWriter();
    new (this) RecordingWriter(std::move(o));
  }
  return *this;
}

RecordingWriter::~RecordingWriter() {
  if (file_) (void)close();
}

RecordingResult<void> RecordingWriter::append(const Entry& e) {
  if (!file_) return fail(offset_, "writer is closed");
  if (e.payload.size() > kMaxBlockRaw / 2) return fail(offset_, "entry of " + std::to_string(e.payload.size()) + " bytes is too large");
  if (block_.size() + sizeof(EntryHeader) + align8(e.payload.size()) > block_limit_ && block_entries_ > 0)
    if (auto r = flush(); !r) return r;
  EntryHeader h{e.timestamp_ns, e.channel, e.direction, e.type, e.flags, 0,
                static_cast<std::uint32_t>(e.payload.size())};
  const std::size_t at = block_.size();
  block_.resize(at + sizeof h + align8(e.payload.size()));
  std::memcpy(block_.data() + at, &h, sizeof h);
  if (!e.payload.empty()) std::memcpy(block_.data() + at + sizeof h, e.payload.data(), e.payload.size());
  if (block_entries_ == 0) first_ts_ = e.timestamp_ns;
  last_ts_ = e.timestamp_ns;
  ++block_entries_;
  ++entries_;
  return {};
}

RecordingResult<void> RecordingWriter::flush() {
  if (!file_) return fail(offset_, "writer is closed");
  if (block_entries_ == 0) return {};
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentSize = block_.size();
  prefs.frameInfo.blockSizeID = LZ4F_max4MB;
  std::vector<std::byte> out(LZ4F_compressFrameBound(block_.size(), &prefs));
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), block_.data(), block_.size(), &prefs);
  if (LZ4F_isError(n)) return fail(offset_, std::string("lz4 compression failed: ") + LZ4F_getErrorName(n));
  BlockHeader b{kBlockMagic, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(block_.size()),
                block_entries_, first_ts_, last_ts_, XXH3_64bits(out.data(), n)};
  if (std::fwrite(&b, sizeof b, 1, file_) != 1 || std::fwrite(out.data(), 1, n, file_) != n)
    return fail(offset_, std::string("write failed: ") + std::strerror(errno));
  offset_ += sizeof b + n;
  block_.clear();
  block_entries_ = 0;
  return {};
}

RecordingResult<void> RecordingWriter::close() {
  if (!file_) return {};
  auto r = flush();
  const bool ok = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!r) return r;
  if (!ok) return fail(offset_, "close failed");
  return {};
}

RecordingResult<ReplayStats> read_recording(const std::string& path, const std::function<bool(const Entry&)>& sink) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return fail(0, "cannot open " + path + ": " + std::strerror(errno));
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};

  FileHeader h{};
  const std::size_t got = std::fread(&h, 1, sizeof h, f);
  if (got != sizeof h) return fail(got, "truncated file header (" + std::to_string(got) + " of 64 bytes)");
  if (h.magic != kRecordingMagic) return fail(0, "not a Vitrine recording (bad magic)");
  if (h.version != kRecordingVersion)
    return fail(8, "recording version " + std::to_string(h.version) + ", this build reads version " +
                       std::to_string(kRecordingVersion));
  if (h.header_size != sizeof h || h.checksum != header_checksum(h)) return fail(0, "file header checksum mismatch");

  ReplayStats stats;
  std::uint64_t offset = sizeof h;
  std::vector<std::byte> compressed, raw;
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return fail(offset, "lz4 context");
  struct DctxFree {
    LZ4F_dctx* d;
    ~DctxFree() { LZ4F_freeDecompressionContext(d); }
  } dfree{dctx};

  for (;;) {
    BlockHeader b{};
    const std::size_t n = std::fread(&b, 1, sizeof b, f);
    if (n == 0) break;  // clean end of file
    if (n != sizeof b) return fail(offset, "truncated block header (" + std::to_string(n) + " of 40 bytes)");
    if (b.magic != kBlockMagic) return fail(offset, "bad block magic");
    if (b.raw_size > kMaxBlockRaw || b.compressed_size > LZ4F_compressFrameBound(kMaxBlockRaw, nullptr))
      return fail(offset, "block sizes out of range (raw " + std::to_string(b.raw_size) + ", compressed " +
                              std::to_string(b.compressed_size) + ")");
    compressed.resize(b.compressed_size);
    const std::size_t c = std::fread(compressed.data(), 1, compressed.size(), f);
    if (c != compressed.size())
      return fail(offset + sizeof b + c, "truncated block: " + std::to_string(c) + " of " +
                                             std::to_string(compressed.size()) + " compressed bytes");
    if (XXH3_64bits(compressed.data(), compressed.size()) != b.checksum)
      return fail(offset, "block checksum mismatch (corrupt data)");
    raw.resize(b.raw_size);
    LZ4F_resetDecompressionContext(dctx);
    size_t dst = raw.size(), src = compressed.size();
    const size_t r = LZ4F_decompress(dctx, raw.data(), &dst, compressed.data(), &src, nullptr);
    if (LZ4F_isError(r) || r != 0 || dst != raw.size())
      return fail(offset, "block does not decompress to its declared size");
    std::size_t pos = 0;
    for (std::uint32_t i = 0; i < b.entry_count; ++i) {
      EntryHeader e{};
      if (raw.size() - pos < sizeof e) return fail(offset, "entry " + std::to_string(i) + " header past block end");
      std::memcpy(&e, raw.data() + pos, sizeof e);
      if (raw.size() - pos - sizeof e < e.length)
        return fail(offset, "entry " + std::to_string(i) + " length " + std::to_string(e.length) + " past block end");
      Entry entry{e.timestamp_ns, e.channel, e.direction, e.type, e.flags,
                  std::span<const std::byte>(raw.data() + pos + sizeof e, e.length)};
      pos += sizeof e + align8(e.length);
      ++stats.entries;
      stats.payload_bytes += e.length;
      if (!sink(entry)) return stats;
    }
    ++stats.blocks;
    offset += sizeof b + b.compressed_size;
  }
  return stats;
}

RecordingResult<ReplayStats> replay_recording(const std::string& path, Pacing pacing,
                                              const std::function<bool(const Entry&)>& sink) {
  if (pacing == Pacing::kFullSpeed) return read_recording(path, sink);
  std::uint64_t first_ts = 0, start = 0;
  bool started = false;
  return read_recording(path, [&](const Entry& e) {
    if (!started) {
      first_ts = e.timestamp_ns;
      start = base::monotonic_ns();
      started = true;
    } else if (e.timestamp_ns > first_ts) {
      const std::uint64_t due = start + (e.timestamp_ns - first_ts);
      const std::uint64_t now = base::monotonic_ns();
      if (due > now) std::this_thread::sleep_for(std::chrono::nanoseconds(due - now));
    }
    return sink(e);
  });
}

}  // namespace vitrine::perf
