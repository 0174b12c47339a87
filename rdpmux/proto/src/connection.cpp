#include "vitrine/rdpmux/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/host_mux.hpp"

namespace vitrine::rdpmux {
namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point deadline_after(std::chrono::nanoseconds timeout) {
  const auto now = Clock::now();
  if (timeout >= Clock::time_point::max() - now) return Clock::time_point::max();
  return now + timeout;
}

// Writers wait in slices so that a guest that closed (seen through the control channel) ends
// the wait even though nothing rings the doorbell for it.
constexpr auto kWriteWaitSlice = std::chrono::milliseconds(20);

}  // namespace

Connection::Connection(HostMux& mux, ringbus::Channel& channel, bool framed, bool stamped)
    : mux_(mux),
      channel_(channel),
      framed_(framed),
      stamped_(stamped),
      max_record_(static_cast<std::uint32_t>(
          std::min<std::uint64_t>(64 * 1024, channel.tx().max_payload() / 4))) {}

Connection::~Connection() { close(); }

bool Connection::guest_closed() const {
  return mux_.slots_[channel_.id()].guest_closed.load(std::memory_order_acquire);
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  if (current_) {
    channel_.rx().release();
    current_ = {};
  }
  mux_.connection_closed(channel_.id());
}

Result<std::span<const std::byte>> Connection::peek_read() {
  if (closed_) return fail(Errc::kInvalidArgument, "read on a closed connection");
  if (current_ && current_offset_ < current_.payload.size())
    return current_.payload.subspan(current_offset_);
  peek_budget_hit_ = false;
  for (std::uint32_t skipped = 0; !eof_; ++skipped) {
    if (skipped == kPeekRecordBudget) {
      // Each skipped record was released as it went: only the budget's end to report.
      peek_budget_hit_ = true;
      stats_.peek_budget_stops += 1;
      return std::span<const std::byte>{};
    }
    auto next = channel_.rx().peek();
    if (!next) return std::unexpected(Error::from_bus(next.error()));
    if (!*next) {
      // peek() may have stepped over a padding record at the wrap: nothing else is peeked
      // here, so release up to it, or a producer waiting for that space would wait forever.
      release_peeked();
      return std::span<const std::byte>{};
    }
    const ringbus::RecordView& r = *next;
    if (r.type == kRecordData) {
      stats_.records_read += 1;
      if (r.flags & kDataWholePdus) stats_.whole_pdu_records += 1;
      if (r.payload.empty()) {
        channel_.rx().release_until(r.end_position);
        continue;
      }
      current_ = r;
      current_offset_ = 0;
      if (stamped_) {
        data_read_ns_ = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
        data_bytes_ = r.payload.size();
      }
      return current_.payload;
    }
    if (r.type == kRecordStamp && stamped_) {
      // Not stream bytes: hand it on (HostMux validates it) and go on with the next record.
      mux_.deliver_stamp(channel_.id(), r.payload, data_bytes_, data_read_ns_);
      data_read_ns_ = data_bytes_ = 0;
      channel_.rx().release_until(r.end_position);
      channel_.notify_released();
      continue;
    }
    // End record, or anything else (a broken guest, a Stamp that was not negotiated): either
    // way the stream ends here.
    auto err = r.type == kRecordEnd ? decode_end(r.payload) : Result<int>(EPROTO);
    eof_ = true;
    end_error_ = err ? *err : EPROTO;
    channel_.rx().release_until(r.end_position);
    channel_.notify_released();
  }
  return std::span<const std::byte>{};
}

void Connection::release_peeked() {
  ringbus::Ring& rx = channel_.rx();
  rx.release();
  channel_.notify_released();
}

void Connection::consume(std::size_t n) {
  if (!current_) return;
  current_offset_ = std::min(current_offset_ + n, current_.payload.size());
  stats_.bytes_read += n;
  if (current_offset_ == current_.payload.size()) {
    channel_.rx().release_until(current_.end_position);
    current_ = {};
    current_offset_ = 0;
    channel_.notify_released();
  }
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
    mux_.pass_on_shared_wakeup(channel_.id());  // the wait may have drained a shared doorbell
    if (!w) return std::unexpected(Error::from_bus(w.error()));
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
  if (!c) return std::unexpected(Error::from_bus(c.error()));
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
    if (!c) return std::unexpected(Error::from_bus(c.error()));
    if (*c) {
      std::memcpy(c->data, in.data() + offset, n);
      commit_write(n);
      offset += n;
      continue;
    }
    mux_.poll();
    const auto now = Clock::now();
    if (now >= deadline)
      return fail(Errc::kTimeout, "the guest did not take the data in time (" + std::to_string(offset) +
                                      " of " + std::to_string(in.size()) + " bytes written)");
    auto w = channel_.wait_writable(n, ringbus::WaitPolicy::adaptive(),
                                    std::min<std::chrono::nanoseconds>(deadline - now, kWriteWaitSlice));
    mux_.pass_on_shared_wakeup(channel_.id());
    if (!w) return std::unexpected(Error::from_bus(w.error()));
  }
  return {};
}

Result<void> Connection::shutdown_write(std::chrono::nanoseconds timeout) {
  if (auto r = ensure_open_for_write(); !r) return r;
  const auto deadline = deadline_after(timeout);
  const auto end = encode_end(0);
  for (;;) {
    auto sent = channel_.try_send(kRecordEnd, end);
    if (!sent) return std::unexpected(Error::from_bus(sent.error()));
    if (*sent) break;
    mux_.poll();
    if (guest_closed()) break;
    const auto now = Clock::now();
    if (now >= deadline) return fail(Errc::kTimeout, "no room for the end-of-stream record");
    auto w = channel_.wait_writable(sizeof(EndRecord), ringbus::WaitPolicy::adaptive(),
                                    std::min<std::chrono::nanoseconds>(deadline - now, kWriteWaitSlice));
    mux_.pass_on_shared_wakeup(channel_.id());
    if (!w) return std::unexpected(Error::from_bus(w.error()));
  }
  write_shut_ = true;
  return {};
}

int Connection::wake_fd() const {
  const auto* bell = mux_.doorbells().host(channel_.id());
  return bell ? bell->fd() : -1;
}

bool Connection::prepare_wait(bool readable, bool writable) {
  // A record half-consumed by an earlier read is data at hand: never sleep on it.
  if (readable && current_ && current_offset_ < current_.payload.size()) return true;
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
  if (auto* bell = mux_.doorbells().host(channel_.id())) {
    bell->drain();
    mux_.pass_on_shared_wakeup(channel_.id());
  }
}

}  // namespace vitrine::rdpmux
