#include "replay_player.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "vitrine/viewer/remote_display.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace vitrine::cli {

std::expected<ReplayResult, std::string> replay_session(const ReplayOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  // A damaged, foreign or TLS recording fails here, before any display or client starts.
  auto channel = inspect_recording(options.recording.string(), options.channel);
  if (!channel) return std::unexpected(channel.error());
  viewer::RemoteDisplayOptions display_options;
  display_options.headless = true;
  // Screenshots are written once, at the end (write_screenshots below), not while settling.
  auto display = viewer::RemoteDisplay::create(display_options);
  if (!display) return std::unexpected("cannot start the headless display: " + display.error());

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return std::unexpected(std::string("socketpair: ") + std::strerror(errno));
  ringbus::UniqueFd client_end(fds[0]);
  ringbus::UniqueFd feeder_end(fds[1]);

  std::atomic<bool> ended{false};
  rdpmux::host::ClientConfig config;
  // The recorded stream is plaintext standard RDP security (check_replayable refuses others).
  config.security = rdpmux::host::Security::kRdp;
  config.remote_app = true;
  config.width = options.width;
  config.height = options.height;
  config.on_end = [&ended](const std::optional<rdpmux::host::Error>&) { ended.store(true, std::memory_order_release); };

  std::atomic<bool> stop_feeder{false};
  std::optional<std::expected<FeedStats, std::string>> feed;
  std::atomic<bool> feed_done{false};
  FeedOptions feed_options;
  feed_options.pacing = options.pacing;
  feed_options.channel = *channel;
  feed_options.stop = &stop_feeder;
  std::thread feeder([&] {
    feed = feed_recording(options.recording.string(), feeder_end.get(), feed_options);
    feed_done.store(true, std::memory_order_release);
  });

  auto client = rdpmux::host::RdpClient::start(config, std::move(client_end), **display, **display);
  if (!client) {
    stop_feeder = true;
    feeder.join();
    (*display)->shutdown();
    if (feed && !*feed) return std::unexpected(feed->error());
    return std::unexpected("cannot start the RDP client: " + rdpmux::host::to_string(client.error()));
  }

  // UI loop: the display's events are applied here while the session thread waits for them.
  const auto deadline = started + options.timeout;
  std::string failure;
  const auto fds_to_poll = (*display)->wake_fds();
  for (;;) {
    std::vector<pollfd> p;
    for (int fd : fds_to_poll) p.push_back({fd, POLLIN, 0});
    (void)::poll(p.data(), p.size(), 50);
    (*display)->dispatch();
    if (options.stop != nullptr && options.stop->load()) {
      failure = "interrupted";
      break;
    }
    if (feed_done.load(std::memory_order_acquire) && feed && !*feed) break;  // reported below
    // Done: every recorded byte went in and the client ended after reading the end of stream.
    if (feed_done.load(std::memory_order_acquire) && ended.load(std::memory_order_acquire)) break;
    if (ended.load(std::memory_order_acquire) && !feed_done.load(std::memory_order_acquire)) {
      // The client gave up before the stream ended: it refused a recorded PDU.
      stop_feeder = true;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      failure = "the replay did not finish within " + std::to_string(options.timeout.count()) + " ms";
      break;
    }
  }
  stop_feeder = true;
  feeder.join();
  (*display)->dispatch();  // anything the session posted last

  ReplayResult result;
  if (feed && *feed) result.feed = **feed;
  if (auto e = (*client)->error()) result.client_error = rdpmux::host::to_string(*e);
  if (failure.empty() && feed && !*feed && feed->error() != "stopped") failure = feed->error();
  if (failure.empty() && feed && !*feed)
    failure = "the client ended the session before the recording was fed" +
              (result.client_error ? ": " + *result.client_error : std::string());
  if (failure.empty() && !options.screenshot_dir.empty()) {
    auto shots = (*display)->write_screenshots(options.screenshot_dir);
    if (!shots) failure = "screenshots: " + shots.error();
    else result.screenshots = std::move(*shots);
  }
  const auto stats = (*display)->stats();
  result.paints = stats.paints;
  result.presents = stats.presents;
  for (const auto& w : (*display)->windows()) result.windows += w.visible ? 1 : 0;
  (*display)->shutdown();
  (*client)->stop();
  result.elapsed = std::chrono::steady_clock::now() - started;
  if (!failure.empty()) return std::unexpected(failure);
  return result;
}

}  // namespace vitrine::cli
