// Feeds a recorded RDP connection (perf recording of RecordingTap) into a live client socket:
// the server -> client bytes of one bus channel go into `socket` in their recorded order, at full
// speed or with their recorded gaps (real time); whatever the client sends meanwhile is read and
// dropped (the recorded server already answered it). Before the first byte the stream is checked
// with check_replayable() (replay_check.hpp): TLS sessions are refused with a clear error.
//
// When every entry is fed, the feeder shuts its side down for writing (the client sees the end
// of the stream only after it has read and processed every recorded PDU) and keeps draining the
// client until it closes or `drain_timeout` passes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>

#include "vitrine/perf/recording.hpp"

namespace vitrine::cli {

struct FeedOptions {
  perf::Pacing pacing = perf::Pacing::kFullSpeed;
  // The bus channel to replay; nullopt: the channel of the first server -> client entry.
  std::optional<std::uint32_t> channel;
  std::chrono::milliseconds drain_timeout{10'000};
  const std::atomic<bool>* stop = nullptr;  // set: stop feeding soon (checked every 100 ms)
};

struct FeedStats {
  std::uint32_t channel = 0;
  std::uint64_t entries_fed = 0;        // server -> client entries written
  std::uint64_t bytes_fed = 0;
  std::uint64_t bytes_from_client = 0;  // read and dropped
  std::uint64_t entries_skipped = 0;    // other channels / the client's recorded bytes
  bool client_closed = false;           // the client closed its end after the stream ended
  // First recorded byte written -> last one taken by the client's socket (the socket buffer
  // holds the tail: the pipeline's pace, not the client's startup).
  std::chrono::nanoseconds feed_time{0};
};

// Reads the whole recording (every block's checksum) and checks that the chosen channel's server
// stream can be replayed. Value: the channel to replay. Errors name the file offset.
std::expected<std::uint32_t, std::string> inspect_recording(const std::string& path,
                                                            std::optional<std::uint32_t> channel);

// `socket`: the server end of a connected stream socket whose other end the RDP client owns
// (not owned; made non-blocking). Errors: recording errors (with file offsets), a stream that
// cannot be replayed, socket errors, stopped.
std::expected<FeedStats, std::string> feed_recording(const std::string& path, int socket, const FeedOptions& options);

}  // namespace vitrine::cli
