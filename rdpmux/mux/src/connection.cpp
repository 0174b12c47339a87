#include "vitrine/rdpmux/mux/connection.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <optional>

#include "mux_detail.hpp"
#include "vitrine/rdpmux/control_codec.hpp"

namespace vitrine::rdpmux {
namespace {

using base::Clock;
using base::deadline_after;

// Writers wait in slices so that a guest that closed (seen through the control channel) ends
// the wait even though nothing rings the doorbell for it.
constexpr auto kWriteWaitSlice = std::chrono::milliseconds(20);

}  // namespace

Connection::Connection(ConnectionOwner& owner, ringbus::Channel& channel, bool framed, bool stamped)
    : owner_(owner),
      channel_(channel),
      framed_(framed),
      stamped_(stamped),
      max_record_(static_cast<std::uint32_t>(
          std::min<std::uint64_t>(64 * 1024, channel.tx().max_payload() / 4))) {}

Connection::~Connection() { close(); }

bool Connection::guest_closed() const {
  return owner_.guest_closed(channel_.id());
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  if (held_count_ > 0) {
    channel_.rx().release();
    held_count_ = 0;
    held_offset_ = 0;
  }
  owner_.connection_closed(channel_.id());
}

Result<std::span<const std::byte>> Connection::peek_read() {
  iovec one;
  auto n = peek_read_many(std::span<iovec>(&one, 1));
  if (!n) return std::unexpected(n.error());
  if (*n == 0) return std::span<const std::byte>{};
  return std::span<const std::byte>(static_cast<const std::byte*>(one.iov_base), one.iov_len);
}

bool Connection::step_over(std::uint64_t end) {
  if (held_count_ > 0) {
    // The ring frees in order: it goes with the held record before it.
    held(held_count_ - 1).release_to = end;
    return false;
  }
  channel_.rx().release_until(end);
  return true;
}

Result<std::size_t> Connection::peek_read_many(std::span<iovec> out, std::size_t max_bytes) {
  if (closed_) return fail(Errc::kInvalidArgument, "read on a closed connection");
  assert(!out.empty() && max_bytes > 0);
  std::size_t filled = 0;
  std::size_t bytes = 0;
  const auto give = [&](const std::byte* data, std::size_t size) {
    // iovec has no const: the kernel only reads through it (sendmsg/writev).
    out[filled++] = iovec{const_cast<std::byte*>(data), size};
    bytes += size;
  };
  // The held records first: the caller did not consume them (a short write).
  for (std::size_t i = 0; i < held_count_ && filled < out.size() && bytes < max_bytes; ++i) {
    const Held& h = held(i);
    const std::size_t skip = i == 0 ? held_offset_ : 0;
    give(h.data + skip, h.size - skip);
  }
  if (filled < held_count_ || filled == out.size() || bytes >= max_bytes || end_pending_ || eof_) return filled;
  peek_budget_hit_ = false;
  bool released = false;
  std::optional<Error> fault;
  for (std::uint32_t skipped = 0; filled < out.size() && bytes < max_bytes && held_count_ < kMaxPeekRecords;) {
    if (skipped == kPeekRecordBudget) {
      // Records without bytes were released (or attached to a held record) as they went: only
      // the budget's end to report.
      peek_budget_hit_ = true;
      stats_.peek_budget_stops += 1;
      break;
    }
    auto next = channel_.rx().peek();
    if (!next) {
      // Held records were validated before the fault: give them; the fault stays and is
      // reported by the call that holds none.
      if (filled == 0) fault = from_bus(next.error());
      break;
    }
    if (!*next) {
      // peek() may have stepped over a padding record at the wrap: with nothing held release up
      // to it, or a producer waiting for that space would wait forever. With records held the
      // padding follows the last one and goes with it (Ring::release_until).
      if (held_count_ == 0) {
        channel_.rx().release();
        released = true;
      }
      break;
    }
    const ringbus::RecordView& r = *next;
    if (r.type == kRecordData) {
      stats_.records_read += 1;
      if (r.flags & kDataWholePdus) stats_.whole_pdu_records += 1;
      if (r.payload.empty()) {
        released |= step_over(r.end_position);
        ++skipped;
        continue;
      }
      held(held_count_++) = Held{r.payload.data(), static_cast<std::uint32_t>(r.payload.size()), r.end_position};
      give(r.payload.data(), r.payload.size());
      if (stamped_) {
        data_read_ns_ = base::monotonic_ns();
        data_bytes_ = r.payload.size();
      }
      continue;
    }
    if (r.type == kRecordStamp && stamped_) {
      // Not stream bytes: hand it on (the owner validates it) and go on with the next record.
      owner_.deliver_stamp(channel_.id(), r.payload, data_bytes_, data_read_ns_);
      data_read_ns_ = data_bytes_ = 0;
      released |= step_over(r.end_position);
      ++skipped;
      continue;
    }
    // End record, or anything else (a broken guest, a Stamp that was not negotiated): either
    // way the stream ends here, after the held records.
    auto err = r.type == kRecordEnd ? decode_end(r.payload) : Result<int>(EPROTO);
    const int end_error = err ? *err : EPROTO;
    if (step_over(r.end_position)) {
      eof_ = true;
      end_error_ = end_error;
      released = true;
    } else {
      end_pending_ = true;
      end_pending_error_ = end_error;
    }
    break;
  }
  if (released) channel_.notify_released();
  if (fault) return std::unexpected(std::move(*fault));
  return filled;
}

std::size_t Connection::held_bytes() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i < held_count_; ++i) total += held(i).size;
  return total - held_offset_;
}

void Connection::consume(std::size_t n) {
  std::uint64_t release_to = 0;  // 0: no record finished (every record ends past position 0)
  while (n > 0 && held_count_ > 0) {
    const Held& h = held(0);
    const std::size_t left = h.size - held_offset_;
    if (n < left) {
      // Ends inside this record: it stays held, the next peek starts at its first unread byte.
      held_offset_ += n;
      stats_.bytes_read += n;
      n = 0;
      break;
    }
    n -= left;
    stats_.bytes_read += left;
    stats_.records_released += 1;
    release_to = h.release_to;
    held_first_ = (held_first_ + 1) & (kMaxPeekRecords - 1);
    held_count_ -= 1;
    held_offset_ = 0;
  }
  assert(n == 0 && "consume() past the bytes peek_read()/peek_read_many() gave");
  if (release_to == 0) return;
  // One release for every record finished here (and the Stamps / End behind them).
  channel_.rx().release_until(release_to);
  stats_.releases += 1;
  if (held_count_ == 0 && end_pending_) {
    end_pending_ = false;
    eof_ = true;
    end_error_ = end_pending_error_;
  }
  channel_.notify_released();
}

Result<std::size_t> Connection::read(std::span<std::byte> out, std::chrono::nanoseconds timeout) {
  const auto deadline = deadline_after(timeout);
  std::size_t total = 0;
  bool rechecked_after_close = false;
  for (;;) {
    auto span = peek_read();
    if (!span) return std::unexpected(span.error());
    if (!span->empty()) {
      const std::size_t n = std::min(span->size(), out.size() - total);
      // The one user-space copy of the stream API (zero-copy callers use peek_read()).
      std::memcpy(out.data() + total, span->data(), n);
      consume(n);
      total += n;
      if (total == out.size()) return total;
      continue;
    }
    if (total > 0) return total;
    if (eof_) {
      if (end_error_ != 0)
        return fail(Errc::kPeerClosed, "the guest's side of the connection failed: " +
                                           std::string(std::strerror(end_error_)), end_error_);
      return std::size_t{0};
    }
    // Records are left behind a run of Stamps: not the end, whatever Closed says.
    if (guest_closed() && !peek_budget_hit_) {
      // Closed follows the guest's last record: look once more, then it is the end.
      if (rechecked_after_close) return std::size_t{0};
      rechecked_after_close = true;
      continue;
    }
    const auto now = Clock::now();
    if (now >= deadline) return fail(Errc::kTimeout, "no data from the guest in time");
    if (peek_budget_hit_) continue;  // no need to wait: records are there
    auto w = channel_.wait_readable(ringbus::WaitPolicy::adaptive(), deadline - now);
    owner_.pass_on_shared_wakeup(channel_.id());  // the wait may have drained a shared doorbell
    if (!w) return std::unexpected(from_bus(w.error()));
  }
}

Result<void> Connection::ensure_open_for_write() const {
  if (closed_) return fail(Errc::kInvalidArgument, "write on a closed connection");
  if (write_shut_) return fail(Errc::kInvalidArgument, "write after shutdown_write()");
  if (guest_closed()) return fail(Errc::kPeerClosed, "the guest closed the connection", EPIPE);
  return {};
}

Result<ringbus::Claim> Connection::claim_write(std::uint32_t max) {
  if (auto r = ensure_open_for_write(); !r) return std::unexpected(r.error());
  auto c = channel_.tx().try_claim(std::min(max, max_record_));
  if (!c) return std::unexpected(from_bus(c.error()));
  return *c;
}

void Connection::commit_write(std::uint32_t used) {
  channel_.tx().commit(used, kRecordData);
  stats_.bytes_written += used;
  channel_.notify_sent();
}

Result<void> Connection::write(std::span<const std::byte> in, std::chrono::nanoseconds timeout) {
  const auto deadline = deadline_after(timeout);
  std::size_t offset = 0;
  while (offset < in.size()) {
    if (auto r = ensure_open_for_write(); !r) return r;
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(in.size() - offset, max_record_));
    auto c = channel_.tx().try_claim(n);
    if (!c) return std::unexpected(from_bus(c.error()));
    if (*c) {
      std::memcpy(c->data, in.data() + offset, n);
      commit_write(n);
      offset += n;
      continue;
    }
    owner_.poll();
    const auto now = Clock::now();
    if (now >= deadline)
      return fail(Errc::kTimeout, "the guest did not take the data in time (" + std::to_string(offset) +
                                      " of " + std::to_string(in.size()) + " bytes written)");
    auto w = channel_.wait_writable(n, ringbus::WaitPolicy::adaptive(),
                                    std::min<std::chrono::nanoseconds>(deadline - now, kWriteWaitSlice));
    owner_.pass_on_shared_wakeup(channel_.id());
    if (!w) return std::unexpected(from_bus(w.error()));
  }
  return {};
}

Result<void> Connection::shutdown_write(std::chrono::nanoseconds timeout) {
  if (auto r = ensure_open_for_write(); !r) return r;
  const auto deadline = deadline_after(timeout);
  const auto end = encode_end(0);
  for (;;) {
    auto sent = channel_.try_send(kRecordEnd, end);
    if (!sent) return std::unexpected(from_bus(sent.error()));
    if (*sent) break;
    owner_.poll();
    if (guest_closed()) break;
    const auto now = Clock::now();
    if (now >= deadline) return fail(Errc::kTimeout, "no room for the end-of-stream record");
    auto w = channel_.wait_writable(sizeof(EndRecord), ringbus::WaitPolicy::adaptive(),
                                    std::min<std::chrono::nanoseconds>(deadline - now, kWriteWaitSlice));
    owner_.pass_on_shared_wakeup(channel_.id());
    if (!w) return std::unexpected(from_bus(w.error()));
  }
  write_shut_ = true;
  return {};
}

int Connection::wake_fd() const {
  const auto* bell = owner_.host_doorbell(channel_.id());
  return bell ? bell->fd() : -1;
}

bool Connection::prepare_wait(bool readable, bool writable) {
  // Held records (a short write, a half-consumed record) are data at hand: never sleep on them.
  if (readable && held_count_ > 0) return true;
  bool ready = false;
  if (readable) {
    auto r = channel_.rx().arm_readable();  // the ringbus hand-shake: flag, then look again
    ready = !r || *r;                         // a fault is "ready": the caller reads it
  }
  if (writable && !ready) {
    auto w = channel_.tx().arm_writable(max_record_);
    ready = !w || *w;
  }
  if (ready) finish_wait();
  return ready;
}

void Connection::finish_wait() {
  channel_.rx().disarm_readable();
  channel_.tx().disarm_writable();
  if (auto* bell = owner_.host_doorbell(channel_.id())) {
    bell->drain();
    owner_.pass_on_shared_wakeup(channel_.id());
  }
}

}  // namespace vitrine::rdpmux
