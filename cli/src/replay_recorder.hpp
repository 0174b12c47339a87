// RecordingTap: the ConnectionBridge tap behind `vitrine record`. Every chunk the bridge moves
// (both directions of one RDP connection) becomes one entry of a perf recording
// (perf/recording.hpp: LZ4 frame blocks, xxh3 per block, timestamps).
//
//   auto tap = RecordingTap::create("session.vtrec", channel_mask);
//   ConnectionBridge::start(std::move(connection), std::move(socket), *tap);
//   ...  // the session runs
//   bridge->stop();  (*tap)->close();   // flushes the last block
//
// Entries: channel = the bus channel, direction 0 = to the guest (client -> server), 1 = from the
// guest (server -> client), type kRdpBytes, timestamp = steady clock ns when the chunk moved.
// Threads: on_chunk() runs on the bridge thread(s) and takes a mutex (one per chunk; the writer
// copies the bytes into its block and compresses a block every `block_bytes`). The first write
// error is kept and later chunks are dropped (the session itself goes on); close() reports it.
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "vitrine/perf/recording.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"

namespace vitrine::cli {

// Entry type of recorded RDP connection bytes (type 0 is never used, as on the bus).
inline constexpr std::uint16_t kRecordedRdpBytes = 1;

class RecordingTap final : public rdpmux::host::BridgeTap {
 public:
  // Creates (truncates) `path`. `channel_mask`: bit N for each bus channel N that will be tapped.
  static std::expected<std::shared_ptr<RecordingTap>, std::string> create(const std::string& path,
                                                                         std::uint64_t channel_mask,
                                                                         std::size_t block_bytes = 256u << 10);
  void on_chunk(Direction direction, std::uint32_t channel, std::uint64_t steady_ns,
                std::span<const std::byte> bytes) override;
  // Flushes and closes the file (idempotent); later chunks are dropped. Error: the first write
  // failure, with its file offset.
  std::expected<std::uint64_t, std::string> close();  // value: entries written
  std::uint64_t entries() const;
  std::uint64_t bytes(Direction direction) const;

 private:
  explicit RecordingTap(perf::RecordingWriter writer) : writer_(std::move(writer)) {}

  mutable std::mutex mutex_;
  std::optional<perf::RecordingWriter> writer_;
  std::optional<std::string> error_;
  bool closed_ = false;
  std::uint64_t bytes_[2] = {0, 0};
};

}  // namespace vitrine::cli
