// `vitrine replay FILE`: a recorded RemoteApp session (replay_recorder.hpp) played through the
// host pipeline without the guest:
//
//   recording --feed_recording (feeder thread)--> socketpair --> RdpClient (FreeRDP, decode)
//     --> viewer::RemoteDisplay (headless compositor: damage -> upload -> present) --> PNG per window
//
// The client's own bytes go nowhere (the recorded server already answered them). The replay
// ends when the recorded stream is exhausted and the client has processed it (it then sees the
// end of the stream and ends its session); the screenshots are written at that point, so two
// replays of one file give the same pixels.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "replay_feeder.hpp"
#include "vitrine/perf/recording.hpp"

namespace vitrine::cli {

struct ReplayOptions {
  std::filesystem::path recording;
  perf::Pacing pacing = perf::Pacing::kFullSpeed;
  std::optional<std::uint32_t> channel;     // default: the first connection in the file
  std::filesystem::path screenshot_dir;     // empty: no screenshots
  std::uint32_t width = 1024;               // desktop size the client asks for (the recorded
  std::uint32_t height = 768;               // server's answer decides)
  std::chrono::milliseconds timeout{120'000};  // the whole replay
  const std::atomic<bool>* stop = nullptr;     // Ctrl-C
};

struct ReplayResult {
  FeedStats feed;
  std::chrono::nanoseconds elapsed{0};
  std::uint64_t paints = 0;     // damaged() calls the display applied
  std::uint64_t presents = 0;
  std::uint64_t windows = 0;    // windows shown at the end
  std::vector<std::filesystem::path> screenshots;
  std::optional<std::string> client_error;  // how the client's session ended (informational)
};

std::expected<ReplayResult, std::string> replay_session(const ReplayOptions& options);

}  // namespace vitrine::cli
