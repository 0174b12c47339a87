#include "vitrine/rdpmux/host/connection_bridge.hpp"

#include "vitrine/base/clock.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace vitrine::rdpmux::host {
namespace {

// One sendmsg gathers up to this many records (IOV_MAX bounds an iovec array: 1024 on Linux)...
constexpr std::size_t kSendRecords = std::min<std::size_t>(rdpmux::kMaxPeekRecords, IOV_MAX);
// ...and stops adding records once it has this many bytes (a Unix socket's default send buffer
// is about 208 KiB: more would only come back as a short write).
constexpr std::size_t kSendBytes = 256 * 1024;

}  // namespace

ConnectionBridge::ConnectionBridge(std::unique_ptr<rdpmux::Connection> connection, ringbus::UniqueFd socket,
                                   ringbus::UniqueFd stop_fd, std::shared_ptr<BridgeTap> tap)
    : connection_(std::move(connection)),
      socket_(std::move(socket)),
      stop_fd_(std::move(stop_fd)),
      tap_(std::move(tap)) {}

Result<std::unique_ptr<ConnectionBridge>> ConnectionBridge::start(std::unique_ptr<rdpmux::Connection> connection,
                                                                  ringbus::UniqueFd socket,
                                                                  std::shared_ptr<BridgeTap> tap) {
  if (!connection || !socket) return fail(Errc::kConfig, "bridge needs a connection and a socket");
  const int flags = ::fcntl(socket.get(), F_GETFL);
  if (flags < 0 || ::fcntl(socket.get(), F_SETFL, flags | O_NONBLOCK) != 0)
    return fail(Errc::kSystem, std::string("cannot make the socket non-blocking: ") + std::strerror(errno));
  ringbus::UniqueFd stop_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_fd) return fail(Errc::kSystem, std::string("eventfd: ") + std::strerror(errno));
  std::unique_ptr<ConnectionBridge> bridge(
      new ConnectionBridge(std::move(connection), std::move(socket), std::move(stop_fd), std::move(tap)));
  bridge->thread_ = std::thread([b = bridge.get()] { b->run(); });
  return bridge;
}

ConnectionBridge::~ConnectionBridge() { stop(); }

void ConnectionBridge::stop() {
  if (!stopping_.exchange(true)) {
    const std::uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
}

bool ConnectionBridge::wait_closed(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::optional<Error> ConnectionBridge::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void ConnectionBridge::set_error(Error error) {
  std::lock_guard lock(mutex_);
  if (!error_ && !stopping_.load()) error_ = std::move(error);
}

void ConnectionBridge::run() {
  auto& conn = *connection_;
  BridgeTap* const tap = tap_.get();
  const std::uint32_t channel = conn.channel_id();
  bool guest_done = false;   // the guest's End record went out as SHUT_WR
  bool socket_done = false;  // the socket's EOF went to the guest as shutdown_write
  const auto bus_error = [&](const rdpmux::Error& e) {
    set_error(Error{e.code == rdpmux::Errc::kPeerClosed ? Errc::kClosed : Errc::kBus, e.sys_errno,
                    "connection on bus channel " + std::to_string(conn.channel_id()) + ": " + rdpmux::to_string(e)});
  };
  while (!stopping_.load(std::memory_order_relaxed) && !(guest_done && socket_done)) {
    bool progress = false;
    bool want_out = false;    // socket send would block
    bool ring_full = false;   // no room on the host->guest ring
    bool socket_dry = false;  // recv would block
    if (!guest_done) {
      // Every committed record at hand (up to kSendRecords / kSendBytes) in one sendmsg, each
      // iovec pointing at a record's bytes in ring memory; iov[0] starts where a short write
      // ended (the Connection keeps that offset and holds the record until all of it is out).
      iovec iov[kSendRecords];
      auto count = conn.peek_read_many(iov, kSendBytes);
      if (!count) {
        bus_error(count.error());
        break;
      }
      if (*count > 0) {
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = *count;
        const ssize_t n = ::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          const auto sent = static_cast<std::size_t>(n);
          // Records whose last byte went out; a short write that ends inside a record leaves it
          // (and the ones after it) held for the next sendmsg.
          std::size_t left = sent;
          std::size_t finished = 0;
          for (std::size_t i = 0; i < *count && left > 0; ++i) {
            const std::size_t take = std::min(left, iov[i].iov_len);
            // The tap reads the sent bytes in ring memory before consume() may hand them back.
            if (tap != nullptr) [[unlikely]]
              tap->on_chunk(BridgeTap::Direction::kToSocket, channel, base::monotonic_ns(),
                            std::span<const std::byte>(static_cast<const std::byte*>(iov[i].iov_base), take));
            finished += take == iov[i].iov_len ? 1 : 0;
            left -= take;
          }
          conn.consume(sent);
          to_socket_.fetch_add(sent, std::memory_order_relaxed);
          sends_to_socket_.fetch_add(1, std::memory_order_relaxed);
          records_to_socket_.fetch_add(finished, std::memory_order_relaxed);
          if (finished < *count) short_sends_to_socket_.fetch_add(1, std::memory_order_relaxed);
          progress = true;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          want_out = true;
        } else if (n < 0 && errno != EINTR) {
          set_error(Error{Errc::kClosed, errno, std::string("socket write failed: ") + std::strerror(errno)});
          break;
        }
      } else if (conn.eof()) {
        ::shutdown(socket_.get(), SHUT_WR);
        guest_done = true;
        progress = true;
        if (conn.end_error() != 0)
          set_error(Error{Errc::kClosed, 0, "the guest's connection failed: " + std::string(std::strerror(conn.end_error()))});
      }
    }
    if (!socket_done) {
      auto claim = conn.claim_write(conn.max_record());
      if (!claim) {
        bus_error(claim.error());
        break;
      }
      if (!*claim) {
        ring_full = true;
      } else {
        const ssize_t n = ::recv(socket_.get(), claim->data, claim->capacity, MSG_DONTWAIT);
        if (n > 0) {
          // Before commit: once committed the guest may consume and reuse the span.
          if (tap != nullptr) [[unlikely]]
            tap->on_chunk(BridgeTap::Direction::kToGuest, channel, base::monotonic_ns(),
                          std::span<const std::byte>(claim->data, static_cast<std::size_t>(n)));
          conn.commit_write(static_cast<std::uint32_t>(n));
          to_guest_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
          progress = true;
        } else {
          conn.abort_write();
          if (n == 0) {
            socket_done = true;
            progress = true;
            if (auto r = conn.shutdown_write(); !r) {
              bus_error(r.error());
              break;
            }
          } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            socket_dry = true;
          } else if (errno != EINTR) {
            set_error(Error{Errc::kClosed, errno, std::string("socket read failed: ") + std::strerror(errno)});
            break;
          }
        }
      }
    }
    if (progress) continue;
    // Arm the ring flags, re-check, then sleep on socket + doorbell + stop together.
    const bool wait_records = !guest_done && !want_out;
    if (conn.prepare_wait(wait_records, !socket_done && ring_full)) continue;
    pollfd fds[3];
    nfds_t count = 0;
    short socket_events = 0;
    if (want_out) socket_events |= POLLOUT;
    if (!socket_done && socket_dry) socket_events |= POLLIN;
    fds[count++] = {socket_.get(), socket_events, 0};
    fds[count++] = {stop_fd_.get(), POLLIN, 0};
    if (conn.wake_fd() >= 0) fds[count++] = {conn.wake_fd(), POLLIN, 0};
    // Without a doorbell (polling bus) the timeout is the re-check interval.
    (void)::poll(fds, count, conn.wake_fd() >= 0 ? 100 : 1);
    conn.finish_wait();
  }
  connection_->close();
  ::shutdown(socket_.get(), SHUT_RDWR);
  closed_.store(true, std::memory_order_release);
}

}  // namespace vitrine::rdpmux::host
