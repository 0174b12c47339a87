#include "bus_socket_bridge.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

namespace vitrine::rdpmux::host::testing {
namespace {
constexpr auto kStopCheck = std::chrono::milliseconds(50);
}

BusSocketBridge::BusSocketBridge(ringbus::Channel& channel, ringbus::UniqueFd socket, BridgeConfig config)
    : channel_(channel), socket_(std::move(socket)), config_(config) {
  const auto quarter = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(channel_.tx().capacity() / 4, channel_.tx().max_payload()));
  config_.max_record = std::max<std::uint32_t>(1, std::min(config_.max_record, quarter));
  config_.max_iov = std::clamp<std::uint32_t>(config_.max_iov, 1, IOV_MAX);
}

Result<std::unique_ptr<BusSocketBridge>> BusSocketBridge::start(ringbus::Channel& channel,
                                                                ringbus::UniqueFd socket,
                                                                BridgeConfig config) {
  if (!socket) return fail(Errc::kConfig, "bridge needs a connected socket");
  if (config.data_type == ringbus::kPaddingType || config.close_type == ringbus::kPaddingType ||
      config.data_type == config.close_type)
    return fail(Errc::kConfig, "bridge record types must be distinct and non-zero");
  std::unique_ptr<BusSocketBridge> bridge(new BusSocketBridge(channel, std::move(socket), config));
  bridge->down_ = std::thread([b = bridge.get()] { b->run_down(); });
  bridge->up_ = std::thread([b = bridge.get()] { b->run_up(); });
  return bridge;
}

BusSocketBridge::~BusSocketBridge() { stop(); }

void BusSocketBridge::stop() {
  if (!stopping_.exchange(true)) {
    // Unblocks a recv() in "up" and a sendmsg() in "down"; the doorbell wakes "down" early.
    ::shutdown(socket_.get(), SHUT_RDWR);
    if (auto* d = channel_.wake_me()) d->ring();
  }
  if (down_.joinable()) down_.join();
  if (up_.joinable()) up_.join();
}

bool BusSocketBridge::closed() const {
  std::lock_guard lock(mutex_);
  return running_ == 0;
}

bool BusSocketBridge::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return done_cv_.wait_for(lock, timeout, [this] { return running_ == 0; });
}

std::optional<Error> BusSocketBridge::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void BusSocketBridge::set_error(Error error) {
  std::lock_guard lock(mutex_);
  if (!error_ && !stopping_.load()) error_ = std::move(error);
}

void BusSocketBridge::finish_one() {
  std::lock_guard lock(mutex_);
  if (--running_ == 0) done_cv_.notify_all();
}

// rx ring -> socket. Records stay in the ring until the kernel has taken every byte of them;
// `pending` holds views of peeked, unreleased records (their payload stays valid until release).
void BusSocketBridge::run_down() {
  auto& rx = channel_.rx();
  std::deque<ringbus::RecordView> pending;
  std::size_t offset = 0;  // bytes of pending.front() already sent
  std::vector<iovec> iov(config_.max_iov);
  bool peer_closed = false;  // a close record is in `pending`
  for (;;) {
    while (!peer_closed && pending.size() < config_.max_iov) {
      auto next = rx.peek();
      if (!next) {
        set_error(Error{Errc::kBus, 0, "bus channel " + std::to_string(channel_.id()) + " faulted: " +
                                        next.error().message});
        ::shutdown(socket_.get(), SHUT_RDWR);
        finish_one();
        return;
      }
      if (!*next) break;
      if (next->type == config_.close_type) {
        peer_closed = true;
      } else if (next->type != config_.data_type) {
        stats_.records_skipped.fetch_add(1, std::memory_order_relaxed);
        next->payload = {};
      }
      pending.push_back(*next);
    }
    if (pending.empty()) {
      if (stopping_.load()) break;
      auto ready = channel_.wake_me()
                       ? rx.wait_readable(*channel_.wake_me(), config_.wait, kStopCheck)
                       : channel_.wait_readable(config_.wait, kStopCheck);
      if (!ready && ready.error().code != ringbus::Errc::kTimeout) {
        set_error(Error{Errc::kBus, 0, "waiting on bus channel " + std::to_string(channel_.id()) + ": " +
                                        ready.error().message});
        ::shutdown(socket_.get(), SHUT_RDWR);
        break;
      }
      continue;
    }
    std::size_t count = 0;
    std::size_t total = 0;
    for (std::size_t i = 0; i < pending.size() && count < iov.size(); ++i) {
      const auto payload = pending[i].payload;
      const std::size_t skip = i == 0 ? offset : 0;
      if (payload.size() <= skip) continue;
      iov[count].iov_base = const_cast<std::byte*>(payload.data() + skip);
      iov[count].iov_len = payload.size() - skip;
      total += iov[count].iov_len;
      ++count;
    }
    std::size_t sent = 0;
    if (total > 0) {
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = count;
      const ssize_t n = ::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (!stopping_.load())
          set_error(Error{Errc::kClosed, errno, std::string("socket write failed: ") + std::strerror(errno)});
        break;
      }
      stats_.sendmsg_calls.fetch_add(1, std::memory_order_relaxed);
      stats_.bytes_to_socket.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
      sent = static_cast<std::size_t>(n);
    }
    // Retire fully sent records (empty ones as they come up), then release them in one store.
    std::uint64_t release_to = 0;
    bool close_reached = false;
    while (!pending.empty()) {
      const std::size_t left = pending.front().payload.size() - offset;
      if (left > sent) {
        offset += sent;
        break;
      }
      sent -= left;
      offset = 0;
      release_to = pending.front().end_position;
      close_reached = close_reached || (pending.front().type == config_.close_type);
      pending.pop_front();
    }
    if (release_to != 0) {
      rx.release_until(release_to);
      channel_.notify_released();
    }
    if (close_reached) {
      // The peer's socket ended: pass end of stream on; "up" goes on until our side closes.
      ::shutdown(socket_.get(), SHUT_WR);
      break;
    }
  }
  finish_one();
}

// socket -> tx ring: recv() writes straight into a claimed span; one record per recv.
void BusSocketBridge::run_up() {
  auto& tx = channel_.tx();
  ringbus::PollingDoorbell space_waiter;
  const auto send_close = [&] {
    while (!stopping_.load()) {
      auto claim = tx.try_claim(0);
      if (!claim) return;
      if (*claim) {
        tx.commit(0, config_.close_type);
        channel_.notify_sent();
        return;
      }
      (void)tx.wait_writable(0, space_waiter, config_.wait, kStopCheck);
    }
  };
  for (;;) {
    auto claim = tx.try_claim(config_.max_record);
    if (!claim) {
      set_error(Error{Errc::kBus, 0, "bus channel " + std::to_string(channel_.id()) + " faulted: " +
                                      claim.error().message});
      ::shutdown(socket_.get(), SHUT_RDWR);
      break;
    }
    if (!*claim) {
      if (stopping_.load()) break;
      (void)tx.wait_writable(config_.max_record, space_waiter, config_.wait, kStopCheck);
      continue;
    }
    const ssize_t n = ::recv(socket_.get(), claim->data, claim->capacity, 0);
    if (n > 0) {
      tx.commit(static_cast<std::uint32_t>(n), config_.data_type);
      channel_.notify_sent();
      stats_.bytes_to_ring.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
      continue;
    }
    tx.abort();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && !stopping_.load())
      set_error(Error{Errc::kClosed, errno, std::string("socket read failed: ") + std::strerror(errno)});
    if (!stopping_.load()) send_close();
    break;
  }
  finish_one();
}

}  // namespace vitrine::rdpmux::host::testing
