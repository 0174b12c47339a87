#include "replay_feeder.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "replay_check.hpp"
#include "replay_recorder.hpp"

namespace vitrine::cli {
namespace {

constexpr std::uint16_t kFromGuest = 1;  // perf::EntryHeader::direction: guest -> host
constexpr std::size_t kCheckBytes = 64u << 10;

struct Pump {
  int fd;
  FeedStats& stats;
  const std::atomic<bool>* stop;
  std::string error;

  bool stopped() const { return stop != nullptr && stop->load(std::memory_order_relaxed); }

  // Reads and drops what the client sent; false on a socket error (error set). EOF is fine.
  bool drain(bool& eof) {
    std::array<std::byte, 16384> sink;
    for (;;) {
      const ssize_t n = ::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
      if (n > 0) {
        stats.bytes_from_client += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n == 0) {
        eof = true;
        return true;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      error = std::string("reading the client's bytes failed: ") + std::strerror(errno);
      return false;
    }
  }

  // Writes all of `bytes`, draining the client while the socket is full (the client may block on
  // its own sends and stop reading otherwise).
  bool write_all(std::span<const std::byte> bytes) {
    bool eof = false;
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        bytes = bytes.subspan(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        error = std::string("the client closed the connection during the replay (") + std::strerror(errno) +
                "): it refused a recorded PDU; see its log";
        return false;
      }
      if (stopped()) {
        error = "stopped";
        return false;
      }
      pollfd p{fd, POLLIN | POLLOUT, 0};
      (void)::poll(&p, 1, 100);
      if (!drain(eof)) return false;
    }
    return drain(eof);
  }
};

}  // namespace

std::expected<std::uint32_t, std::string> inspect_recording(const std::string& path,
                                                            std::optional<std::uint32_t> channel) {
  std::vector<std::byte> head;
  auto read = perf::read_recording(path, [&](const perf::Entry& e) {
    if (e.direction != kFromGuest || e.type != kRecordedRdpBytes) return true;
    if (!channel) channel = e.channel;
    if (e.channel == *channel && head.size() < kCheckBytes) head.insert(head.end(), e.payload.begin(), e.payload.end());
    return true;  // read on: every block's checksum is verified before the replay starts
  });
  if (!read) return std::unexpected(read.error().to_string());
  if (!channel || head.empty())
    return std::unexpected(channel ? "the recording has no server -> client bytes on bus channel " + std::to_string(*channel)
                                   : std::string("the recording has no server -> client bytes"));
  if (auto ok = check_replayable(head); !ok) return std::unexpected(ok.error());
  return *channel;
}

std::expected<FeedStats, std::string> feed_recording(const std::string& path, int socket, const FeedOptions& options) {
  FeedStats stats;
  auto chosen = inspect_recording(path, options.channel);
  if (!chosen) return std::unexpected(chosen.error());
  const std::optional<std::uint32_t> channel = *chosen;
  stats.channel = *chosen;

  const int flags = ::fcntl(socket, F_GETFL);
  if (flags < 0 || ::fcntl(socket, F_SETFL, flags | O_NONBLOCK) != 0)
    return std::unexpected(std::string("cannot make the replay socket non-blocking: ") + std::strerror(errno));
  Pump pump{socket, stats, options.stop, {}};
  std::optional<std::chrono::steady_clock::time_point> first_write;
  // Pass 2: feed, paced as asked.
  auto fed = perf::replay_recording(path, options.pacing, [&](const perf::Entry& e) {
    if (e.direction != kFromGuest || e.type != kRecordedRdpBytes || e.channel != *channel) {
      ++stats.entries_skipped;
      return !pump.stopped();
    }
    if (!first_write) first_write = std::chrono::steady_clock::now();
    if (!pump.write_all(e.payload)) return false;
    ++stats.entries_fed;
    stats.bytes_fed += e.payload.size();
    return true;
  });
  if (!fed) return std::unexpected(fed.error().to_string());
  if (!pump.error.empty()) return std::unexpected(pump.error);
  if (pump.stopped()) return std::unexpected(std::string("stopped"));

  if (first_write) stats.feed_time = std::chrono::steady_clock::now() - *first_write;
  // End of the recorded stream: the client reads every PDU before it sees the end.
  ::shutdown(socket, SHUT_WR);
  const auto deadline = std::chrono::steady_clock::now() + options.drain_timeout;
  bool eof = false;
  while (!eof && !pump.stopped() && std::chrono::steady_clock::now() < deadline) {
    pollfd p{socket, POLLIN, 0};
    (void)::poll(&p, 1, 100);
    if (!pump.drain(eof)) break;  // a reset after the end is how some clients close: not an error
  }
  stats.client_closed = eof;
  return stats;
}

}  // namespace vitrine::cli
