#include "channel_table.hpp"

#include <algorithm>

#include "control_link.hpp"
#include "vitrine/base/log.hpp"

namespace vitrine::rdpmux {

ChannelTable::ChannelTable(ringbus::Bus& bus, ControlLink& link, HostMuxCounters& counters)
    : bus_(bus), link_(link), counters_(counters), slots_(bus.channel_count()) {
  slots_[kControlChannel].state = State::kControl;
}

std::uint32_t ChannelTable::free_count() const {
  std::uint32_t n = 0;
  for (const auto& s : slots_) n += s.state == State::kFree ? 1 : 0;
  return n;
}

std::uint32_t ChannelTable::find_free(std::uint32_t reserved) const {
  for (std::uint32_t i = 1; i < slots_.size(); ++i)
    if (i != reserved && slots_[i].state == State::kFree) return i;
  return 0;
}

void ChannelTable::begin_open(std::uint32_t channel, std::uint32_t request) {
  Slot& s = slots_[channel];
  s.state = State::kOpening;
  s.request_id = request;
  s.host_closed = false;
  s.close_requested = false;
  s.guest_closed.store(false, std::memory_order_relaxed);
  s.closed_error = 0;
  s.closed_text.clear();
}

void ChannelTable::mark_open(std::uint32_t channel) { slots_[channel].state = State::kOpen; }
void ChannelTable::mark_free(std::uint32_t channel) { slots_[channel].state = State::kFree; }
void ChannelTable::mark_abandoned(std::uint32_t channel) { slots_[channel].state = State::kAbandoned; }

ChannelTable::Slot* ChannelTable::slot_for(std::uint32_t channel) {
  if (channel == kControlChannel || channel >= slots_.size()) return nullptr;
  return &slots_[channel];
}

ChannelTable::Answer ChannelTable::on_opened(const OpenedMsg& opened) {
  Slot* s = slot_for(opened.channel);
  if (s && s->state == State::kOpening && s->request_id == opened.request_id) {
    // Open now: a Closed in the same batch (a connection that ended at once) must find it so.
    s->state = State::kOpen;
    return Answer::kOpened;
  }
  if (s && s->state == State::kAbandoned && s->request_id == opened.request_id && !s->close_requested) {
    // Our open() timed out before this arrived: end the connection right away.
    request_close(opened.channel);
    return Answer::kClosing;
  }
  return Answer::kUnexpected;
}

ChannelTable::Answer ChannelTable::on_open_failed(const OpenFailedMsg& failed, std::uint32_t awaited_request) {
  Slot* s = slot_for(failed.channel);
  // Not after an Opened we answered with Close (close_requested): the guest owes Closed then,
  // and freeing the slot here could hand a kept Close to the channel's next connection.
  if (!s || (s->state != State::kOpening && s->state != State::kAbandoned) ||
      s->request_id != failed.request_id || s->close_requested)
    return Answer::kUnexpected;
  if (s->state == State::kOpening && awaited_request == failed.request_id) return Answer::kForCaller;
  s->state = State::kFree;
  return Answer::kFreed;
}

bool ChannelTable::on_closed(const ClosedMsg& closed) {
  Slot* s = slot_for(closed.channel);
  if (!s || (s->state != State::kOpen && s->state != State::kAbandoned)) return false;
  s->closed_error = closed.error;
  s->closed_text = std::string(text_of(closed));
  // Release: a reader that sees the flag (acquire) and then looks at g2h N sees every record
  // the guest committed before Closed.
  s->guest_closed.store(true, std::memory_order_release);
  if (s->state == State::kAbandoned) s->host_closed = true;
  maybe_free(closed.channel);
  return true;
}

void ChannelTable::connection_closed(std::uint32_t channel) {
  Slot& s = slots_[channel];
  s.host_closed = true;
  // Never waits for the guest (a bridge thread closes at Ctrl-C; it used to wait 1 s on a full
  // control ring, then drop the Close and leave the channel busy for good).
  if (!s.guest_closed.load(std::memory_order_acquire)) request_close(channel);
  maybe_free(channel);
}

void ChannelTable::request_close(std::uint32_t channel) {
  Slot& s = slots_[channel];
  s.close_requested = true;
  if (s.close_pending) return;
  if (auto sent = link_.try_send(CloseMsg{channel, 0}); sent && *sent) return;
  // Kept, not dropped: the guest must hear it to end the connection and confirm with Closed,
  // which is what frees the channel.
  s.close_pending = true;
  ++pending_closes_;
  counters_.closes_deferred.fetch_add(1, std::memory_order_relaxed);
  if (auto a = link_.admit_guest_line())
    base::log_info("rdpmux: control channel full: Close for channel {} sent later{}", channel, a.suffix());
}

void ChannelTable::flush_closes() {
  for (std::uint32_t c = 1; c < slots_.size() && pending_closes_ != 0; ++c) {
    Slot& s = slots_[c];
    if (!s.close_pending) continue;
    if (auto sent = link_.try_send(CloseMsg{c, 0}); !sent || !*sent) return;  // still full
    s.close_pending = false;
    --pending_closes_;
  }
}

void ChannelTable::discard_rx(std::uint32_t channel) {
  ringbus::Channel& ch = bus_.channel(channel);
  // Every record takes at least its header: more than this many were written after we began,
  // i.e. after the guest's Closed. They wait for the next discard (open() runs one).
  std::uint64_t left = ch.rx().capacity() / sizeof(ringbus::RecordHeader);
  while (left != 0) {
    auto n = ch.rx().read([](const ringbus::RecordView&) {}, std::min<std::uint64_t>(left, 256));
    if (!n) {
      ch.reset();
      return;
    }
    if (*n == 0) break;
    left -= *n;
    ch.notify_released();
  }
}

void ChannelTable::maybe_free(std::uint32_t channel) {
  Slot& s = slots_[channel];
  if (!s.host_closed || !s.guest_closed.load(std::memory_order_acquire)) return;
  // Everything the guest wrote for this connection came before its Closed: drain it now so
  // that the next connection on this channel starts clean.
  discard_rx(channel);
  // The guest ended it on its own: a kept Close must not reach the channel's next connection.
  if (s.close_pending) {
    s.close_pending = false;
    --pending_closes_;
  }
  s.state = State::kFree;
}

}  // namespace vitrine::rdpmux
