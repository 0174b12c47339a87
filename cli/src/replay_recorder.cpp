#include "replay_recorder.hpp"

namespace vitrine::cli {

std::expected<std::shared_ptr<RecordingTap>, std::string> RecordingTap::create(const std::string& path,
                                                                              std::uint64_t channel_mask,
                                                                              std::size_t block_bytes) {
  auto writer = perf::RecordingWriter::create(path, channel_mask, block_bytes);
  if (!writer) return std::unexpected(writer.error().to_string());
  return std::shared_ptr<RecordingTap>(new RecordingTap(std::move(*writer)));
}

void RecordingTap::on_chunk(Direction direction, std::uint32_t channel, std::uint64_t steady_ns,
                            std::span<const std::byte> bytes) {
  std::lock_guard lock(mutex_);
  if (closed_ || error_ || !writer_) return;
  perf::Entry e;
  e.timestamp_ns = steady_ns;
  e.channel = channel;
  e.direction = static_cast<std::uint16_t>(direction);
  e.type = kRecordedRdpBytes;
  e.payload = bytes;
  if (auto r = writer_->append(e); !r) {
    error_ = r.error().to_string();
    return;
  }
  bytes_[direction == Direction::kToGuest ? 0 : 1] += bytes.size();
}

std::expected<std::uint64_t, std::string> RecordingTap::close() {
  std::lock_guard lock(mutex_);
  if (!closed_ && writer_) {
    closed_ = true;
    if (auto r = writer_->close(); !r && !error_) error_ = r.error().to_string();
  }
  if (error_) return std::unexpected(*error_);
  return writer_ ? writer_->entries() : 0;
}

std::uint64_t RecordingTap::entries() const {
  std::lock_guard lock(mutex_);
  return writer_ ? writer_->entries() : 0;
}

std::uint64_t RecordingTap::bytes(Direction direction) const {
  std::lock_guard lock(mutex_);
  return bytes_[direction == Direction::kToGuest ? 0 : 1];
}

}  // namespace vitrine::cli
