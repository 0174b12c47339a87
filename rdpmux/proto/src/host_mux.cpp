#include "vitrine/rdpmux/host_mux.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "host_mux_detail.hpp"
#include "vitrine/ringbus/log.hpp"

// HostMux: control calls, the channel table and the drain loop (what the guest feeds on its own:
// host_mux_feeds.cpp).
namespace vitrine::rdpmux {

using namespace detail;

HostMux::HostMux(ringbus::Bus& bus, BusDoorbells doorbells, HostMuxOptions options)
    : bus_(bus), doorbells_(std::move(doorbells)), options_(std::move(options)), slots_(bus.channel_count()) {
  slots_[kControlChannel].state = SlotState::kControl;
  // Nobody to hand a catalogue to: do not ask the guest to send one.
  if (!options_.on_catalog_fragment) options_.features &= ~kFeatureCatalog;
  // Nobody to hand stamps to: the relay should not spend ring space on them.
  if (!options_.on_stamp) options_.features &= ~kFeatureTimestamps;
}

HostMux::~HostMux() {
  if (live_connections_.load() != 0)
    ringbus::log(ringbus::LogLevel::kError,
                 "rdpmux: HostMux destroyed with " + std::to_string(live_connections_.load()) +
                     " live connections (they must be closed first)");
}

Result<std::unique_ptr<HostMux>> HostMux::create(ringbus::Bus& bus, BusDoorbells doorbells,
                                                 HostMuxOptions options) {
  if (bus.side() != ringbus::Side::kHost)
    return fail(Errc::kInvalidArgument, "HostMux needs the host side of the bus");
  if (bus.channel_count() < 2)
    return fail(Errc::kInvalidArgument, "the bus has no connection channels (channel_count 1)");
  if (auto r = doorbells.apply(bus); !r) return std::unexpected(r.error());
  std::unique_ptr<HostMux> mux(new HostMux(bus, std::move(doorbells), std::move(options)));
  std::lock_guard lock(mux->mutex_);
  if (auto r = mux->send(make_hello(mux->options_.features, bus.channel_count()),
                         deadline_after(std::chrono::seconds(1)));
      !r)
    return std::unexpected(r.error());
  return mux;
}

Result<void> HostMux::send(const ControlMessage& message, Clock::time_point deadline) {
  const EncodedMessage m = encode_control(message);
  ringbus::Channel& ch = bus_.channel(kControlChannel);
  for (;;) {
    auto sent = ch.try_send(m.type, m.payload());
    if (!sent) return std::unexpected(Error::from_bus(sent.error()));
    if (*sent) return {};
    const auto now = Clock::now();
    if (now >= deadline)
      return fail(Errc::kTimeout, "control channel full: the guest relay does not read it");
    auto w = ch.wait_writable(m.size, ringbus::WaitPolicy::adaptive(), deadline - now);
    if (!w) return std::unexpected(Error::from_bus(w.error()));
  }
}

Result<bool> HostMux::try_send(const ControlMessage& message) {
  const EncodedMessage m = encode_control(message);
  auto sent = bus_.channel(kControlChannel).try_send(m.type, m.payload());
  if (!sent) return std::unexpected(Error::from_bus(sent.error()));
  return *sent;
}

void HostMux::reply(const ControlMessage& message) {
  // Never a wait: a guest that sends Pings and does not read the answers used to hold the
  // caller (the UI thread, in poll()) for 100 ms per Ping.
  if (auto sent = try_send(message); sent && *sent) return;
  const auto n = counters_.replies_dropped.fetch_add(1, std::memory_order_relaxed);
  if (worth_logging(n))
    ringbus::log(ringbus::LogLevel::kWarn, "rdpmux: the guest relay does not read the control channel: " +
                                               std::string(message_name(message_type_of(message))) +
                                               " dropped" + so_far(n));
}

void HostMux::request_close(std::uint32_t channel) {
  Slot& s = slots_[channel];
  s.close_requested = true;
  if (s.close_pending) return;
  if (auto sent = try_send(CloseMsg{channel, 0}); sent && *sent) return;
  // Kept, not dropped: the guest must hear it to end the connection and confirm with Closed,
  // which is what frees the channel.
  s.close_pending = true;
  ++pending_closes_;
  const auto n = counters_.closes_deferred.fetch_add(1, std::memory_order_relaxed);
  if (worth_logging(n))
    ringbus::log(ringbus::LogLevel::kInfo, "rdpmux: control channel full: Close for channel " +
                                               std::to_string(channel) + " sent later" + so_far(n));
}

void HostMux::flush_closes() {
  for (std::uint32_t c = 1; c < slots_.size() && pending_closes_ != 0; ++c) {
    Slot& s = slots_[c];
    if (!s.close_pending) continue;
    if (auto sent = try_send(CloseMsg{c, 0}); !sent || !*sent) return;  // still full
    s.close_pending = false;
    --pending_closes_;
  }
}

Result<bool> HostMux::drain_control() {
  flush_closes();
  ringbus::Channel& ch = bus_.channel(kControlChannel);
  ringbus::Ring& rx = ch.rx();
  const std::uint32_t budget = std::max<std::uint32_t>(options_.poll_record_budget, 1);
  const auto until = Clock::now() + options_.poll_time_budget;
  std::uint32_t handled = 0;
  for (;;) {
    if (handled == budget || (handled != 0 && Clock::now() >= until)) {
      if (handled % 64 != 0) ch.notify_released();
      // Records left (or a fault, which the next turn's peek reports): the caller comes back
      // at once. A padding record alone reads as one record left: one empty turn, no harm.
      auto left = rx.readable();
      if (left && !*left) return false;
      counters_.budget_deferrals.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    auto r = rx.peek();
    if (!r) {
      // The guest broke the control ring (the ring logged it): reset it (we own the region).
      counters_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
      ch.reset();
      return std::unexpected(Error::from_bus(r.error()));
    }
    if (!*r) break;
    const std::uint16_t type = r->type;
    // Copied out of the ring and validated, then released: handle() (and the replies it sends)
    // run on the private copy.
    auto m = decode_control(type, r->payload);
    rx.release_until(r->end_position);
    // A producer waiting for space hears of it every 64 records, not once per record.
    if (++handled % 64 == 0) ch.notify_released();
    if (!m) {
      protocol_error(type, m.error().code == Errc::kUnknownType ? kErrUnknownType : kErrMalformed,
                     m.error().message);
      continue;
    }
    handle(*m);
  }
  // peek() may have stepped over a padding record at the wrap: free it with the rest.
  rx.release();
  if (handled % 64 != 0) ch.notify_released();
  return false;
}

void HostMux::protocol_error(std::uint16_t type, std::uint32_t code, const std::string& text) {
  const auto n = counters_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  if (worth_logging(n))
    ringbus::log(ringbus::LogLevel::kWarn, "rdpmux: bad message from the guest (type " + std::to_string(type) +
                                               "): " + text + so_far(n));
  reply(make_error_reply(type, code, text));
}

void HostMux::handle(const ControlMessage& message) {
  const std::uint16_t type = message_type_of(message);
  if (message_sender(type) == Sender::kHost) {
    protocol_error(type, kErrWrongDirection, std::string(message_name(type)) + " is sent by the host");
    return;
  }
  auto slot_for = [&](std::uint32_t channel) -> Slot* {
    if (channel == kControlChannel || channel >= slots_.size()) return nullptr;
    return &slots_[channel];
  };
  if (const auto* hr = std::get_if<HelloReplyMsg>(&message)) {
    if (hr->version != kProtocolVersion || (hr->features & ~options_.features) != 0) {
      protocol_error(type, kErrVersion, "HelloReply version " + std::to_string(hr->version) +
                                            " features " + std::to_string(hr->features));
      return;
    }
    hello_reply_ = *hr;
    accepted_features_.store(hr->features, std::memory_order_relaxed);
    // A new HelloReply (the relay restarted) starts the catalogue afresh; a restarted guest
    // may also have a new clock (a rebooted VM), so the samples start afresh too.
    catalog_stream_ = {};
    clock_.clear();
    probe_.reset();
    ready_.store(true, std::memory_order_release);
  } else if (const auto* op = std::get_if<OpenedMsg>(&message)) {
    Slot* s = slot_for(op->channel);
    if (s && s->state == SlotState::kOpening && s->request_id == op->request_id) {
      // Open now: a Closed in the same batch (a connection that ended at once) must find it so.
      s->state = SlotState::kOpen;
      if (open_request_ == op->request_id) open_reply_ = message;
    } else if (s && s->state == SlotState::kAbandoned && s->request_id == op->request_id && !s->close_requested) {
      // Our open() timed out before this arrived: end the connection right away.
      request_close(op->channel);
    } else {
      protocol_error(type, kErrBadChannel, "Opened for channel " + std::to_string(op->channel) +
                                               " request " + std::to_string(op->request_id) +
                                               " that is not being opened");
    }
  } else if (const auto* of = std::get_if<OpenFailedMsg>(&message)) {
    Slot* s = slot_for(of->channel);
    // Not after an Opened we answered with Close (close_requested): the guest owes Closed then,
    // and freeing the slot here could hand a kept Close to the channel's next connection.
    if (s && (s->state == SlotState::kOpening || s->state == SlotState::kAbandoned) &&
        s->request_id == of->request_id && !s->close_requested) {
      if (s->state == SlotState::kOpening && open_request_ == of->request_id)
        open_reply_ = message;
      else
        s->state = SlotState::kFree;
    } else {
      protocol_error(type, kErrBadChannel, "OpenFailed for channel " + std::to_string(of->channel) +
                                               " that is not being opened");
    }
  } else if (const auto* cl = std::get_if<ClosedMsg>(&message)) {
    Slot* s = slot_for(cl->channel);
    if (!s || (s->state != SlotState::kOpen && s->state != SlotState::kAbandoned)) {
      protocol_error(type, kErrBadChannel, "Closed for channel " + std::to_string(cl->channel) +
                                               " that is not open");
      return;
    }
    s->closed_error = cl->error;
    s->closed_text = std::string(text_of(*cl));
    // Release: a reader that sees the flag (acquire) and then looks at g2h N sees every record
    // the guest committed before Closed.
    s->guest_closed.store(true, std::memory_order_release);
    if (s->state == SlotState::kAbandoned) s->host_closed = true;
    maybe_free(cl->channel);
  } else if (const auto* pi = std::get_if<PingMsg>(&message)) {
    reply(PongMsg{pi->nonce, pi->sent_ns});
  } else if (const auto* po = std::get_if<PongMsg>(&message)) {
    pong_ = *po;
  } else if (const auto* st = std::get_if<StatsReplyMsg>(&message)) {
    stats_reply_ = *st;
  } else if (const auto* cf = std::get_if<CatalogFragmentMsg>(&message)) {
    handle_fragment(*cf);
  } else if (const auto* cr = std::get_if<ClockReplyMsg>(&message)) {
    handle_clock_reply(*cr);
  } else if (const auto* er = std::get_if<ErrorReplyMsg>(&message)) {
    const auto n = counters_.error_replies.fetch_add(1, std::memory_order_relaxed);
    if (worth_logging(n))
      ringbus::log(ringbus::LogLevel::kWarn, "rdpmux: the guest rejected a " +
                                                 std::string(message_name(er->offending_type)) +
                                                 " message: " + std::string(text_of(*er)) + so_far(n));
  }
}

HostMux::ControlLock::ControlLock(HostMux& mux) : mux_(mux), lock_(mux.mutex_) {}

HostMux::ControlLock::~ControlLock() {
  lock_.unlock();
  mux_.rewake_event_loop();
}

void HostMux::rewake_event_loop() {
  // seq_cst, paired with arm_control_wake(): the loop stores the flag, then its try_lock finds
  // the lock taken; this load follows our unlock. A flag set so late that this load misses it
  // costs the loop one bounded poll timeout, never a lost message (poll() drains everything).
  if (!loop_armed_.load(std::memory_order_seq_cst)) return;
  // The control call may have eaten the doorbell the loop sleeps on (EventfdDoorbell::wait
  // drains it) and cleared the shared waiting flag: ring once so that the loop looks again.
  if (control_wake_fd() >= 0) doorbells_.host(kControlChannel)->ring();
}

template <typename Done>
Result<void> HostMux::wait_until(Done&& done, Clock::time_point deadline) {
  ringbus::Channel& ch = bus_.channel(kControlChannel);
  for (;;) {
    auto more = drain_control();
    if (!more) return std::unexpected(more.error());
    if (done()) return {};
    const auto now = Clock::now();
    if (now >= deadline) return fail(Errc::kTimeout, "no answer from the guest relay in time");
    // The turn stopped at its budget: the next one at once (a flooding guest meets the deadline
    // between turns instead of holding this loop inside one).
    if (*more) continue;
    // With one host doorbell shared by every channel (a VM has one per direction), sleeping on
    // it would race the connections' threads for each wake-up: whoever drains the eventfd
    // takes it from the others (a ping took its whole 500 ms timeout so, and the bridge it
    // robbed would stall for its poll interval). Control calls are rare: they poll the ring in
    // sub-millisecond steps instead and leave the eventfd to the connections.
    auto w = control_wake_fd() < 0 && !doorbells_.polling()
                 ? ch.rx().wait_readable(shared_bell_wait_, ringbus::WaitPolicy::adaptive(), deadline - now)
                 : ch.wait_readable(ringbus::WaitPolicy::adaptive(), deadline - now);
    if (!w) return std::unexpected(Error::from_bus(w.error()));
  }
}

Result<HelloReplyMsg> HostMux::wait_ready(std::chrono::nanoseconds timeout) {
  ControlLock lock(*this);
  if (auto r = wait_until([&] { return ready(); }, deadline_after(timeout)); !r) {
    if (r.error().code == Errc::kTimeout)
      return fail(Errc::kTimeout, "the guest relay did not answer Hello (is vitrine-guest running?)");
    return std::unexpected(r.error());
  }
  return hello_reply_;
}

void HostMux::discard_rx(std::uint32_t channel) {
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

void HostMux::maybe_free(std::uint32_t channel) {
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
  s.state = SlotState::kFree;
}

void HostMux::connection_closed(std::uint32_t channel) {
  ControlLock lock(*this);
  Slot& s = slots_[channel];
  s.host_closed = true;
  // Never waits for the guest (a bridge thread closes at Ctrl-C; it used to wait 1 s on a full
  // control ring, then drop the Close and leave the channel busy for good).
  if (!s.guest_closed.load(std::memory_order_acquire)) request_close(channel);
  maybe_free(channel);
  live_connections_.fetch_sub(1);
}

std::uint32_t HostMux::free_channels() const {
  std::lock_guard lock(mutex_);
  std::uint32_t n = 0;
  for (const auto& s : slots_) n += s.state == SlotState::kFree ? 1 : 0;
  return n;
}

bool HostMux::poll() {
  std::unique_lock lock(mutex_, std::try_to_lock);
  // A thread inside a control call drains the channel itself (and rewakes an armed loop).
  if (!lock.owns_lock()) return false;
  if (loop_armed_.exchange(false, std::memory_order_seq_cst)) {
    bus_.channel(kControlChannel).rx().disarm_readable();
    // Drained before reading the ring: a doorbell rung after this point stays pending. Records
    // a budgeted turn leaves behind need no doorbell: arm_control_wake() sees them and says so.
    if (control_wake_fd() >= 0) doorbells_.host(kControlChannel)->drain();
  }
  // A fault was counted, logged (by the ring) and the ring reset: nothing left to do here.
  auto more = drain_control();
  maybe_probe_clock();
  return more && *more;
}

int HostMux::control_wake_fd() const {
  // Only a doorbell of its own: a shared one is also drained by connection threads' waits, and
  // draining it here would steal their wake-ups.
  if (doorbells_.polling() || doorbells_.host_count() != bus_.channel_count()) return -1;
  return doorbells_.host(kControlChannel)->fd();
}

bool HostMux::arm_control_wake() {
  loop_armed_.store(true, std::memory_order_seq_cst);  // see rewake_event_loop()
  std::unique_lock lock(mutex_, std::try_to_lock);
  // A control call is running: it drains, and rings control_wake_fd() when it is done.
  if (!lock.owns_lock()) return true;
  // The ringbus hand-shake (flag, then look again); poll() disarms.
  auto readable = bus_.channel(kControlChannel).rx().arm_readable();
  return readable && !*readable;  // a faulted ring: poll() resets it
}

Result<ClockEstimate> HostMux::sync_clock(std::chrono::nanoseconds timeout, int rounds) {
  ControlLock lock(*this);
  const auto deadline = deadline_after(timeout);
  if (auto r = wait_until([&] { return ready(); }, deadline); !r) return std::unexpected(r.error());
  if ((hello_reply_.features & kFeatureTimestamps) == 0)
    return fail(Errc::kInvalidArgument, (options_.features & kFeatureTimestamps) == 0
                                            ? "timestamps were not asked for (HostMuxOptions::on_stamp is not set)"
                                            : "the guest relay does not offer timestamps (an older vitrine-guest?)");
  for (int i = 0; i < std::max(rounds, 1); ++i) {
    const std::uint64_t now = monotonic_ns();
    probe_ = ClockProbe{++next_nonce_ ^ (now << 20), now};
    last_probe_ns_ = now;
    const std::uint64_t nonce = probe_->nonce;
    if (auto r = send(ClockProbeMsg{nonce, now}, deadline); !r) return std::unexpected(r.error());
    // handle_clock_reply() clears probe_ when the matching reply arrives.
    if (auto r = wait_until([&] { return !probe_ || probe_->nonce != nonce; }, deadline); !r)
      return std::unexpected(r.error());
  }
  std::lock_guard clock_lock(clock_mutex_);
  if (!estimate_) return fail(Errc::kMalformed, "the guest relay's ClockReplies were unusable");
  return *estimate_;
}

void HostMux::pass_on_shared_wakeup(std::uint32_t drained_by) {
  if (doorbells_.host_count() != 1 || bus_.channel_count() < 2) return;
  for (std::uint32_t c = 0; c < bus_.channel_count(); ++c) {
    if (c == drained_by) continue;
    // Only a reader of this process that is armed and has records waiting, judged from our own
    // state (never the shared waiting flag or head, which the guest can forge: a forged pair on a
    // channel nobody opened used to make this ring the doorbell forever). Ringing for a reader
    // with nothing new, or for a writer waiting for space that may not be enough yet, could
    // bounce wake-ups between threads.
    if (bus_.channel(c).rx().reader_waits_with_records()) {
      doorbells_.host(c)->ring();
      return;  // one ring wakes every sleeper on the eventfd: each re-checks its own ring
    }
  }
}

bool HostMux::catalog_negotiated() const {
  return ready() && (accepted_features_.load(std::memory_order_relaxed) & kFeatureCatalog) != 0;
}

Result<void> HostMux::request_catalog(std::chrono::nanoseconds timeout) {
  ControlLock lock(*this);
  const auto deadline = deadline_after(timeout);
  if ((options_.features & kFeatureCatalog) == 0)
    return fail(Errc::kInvalidArgument, "no catalogue was asked for (HostMuxOptions::on_catalog_fragment is not set)");
  if (!ready()) {
    if (auto r = wait_until([&] { return ready(); }, deadline); !r) {
      if (r.error().code == Errc::kTimeout)
        return fail(Errc::kTimeout, "the guest relay did not answer Hello (is vitrine-guest running?)");
      return std::unexpected(r.error());
    }
  }
  if ((hello_reply_.features & kFeatureCatalog) == 0)
    return fail(Errc::kInvalidArgument, "the guest relay publishes no catalogue (vitrine-guest --no-catalog?)");
  return send(CatalogRequestMsg{0}, deadline);
}

Result<std::unique_ptr<Connection>> HostMux::open(const Target& target, OpenOptions options) {
  ControlLock lock(*this);
  const auto deadline = deadline_after(options.timeout);
  if (!ready()) {
    if (auto r = wait_until([&] { return ready(); }, deadline); !r) {
      if (r.error().code == Errc::kTimeout)
        return fail(Errc::kTimeout, "the guest relay did not answer Hello (is vitrine-guest running?)");
      return std::unexpected(r.error());
    }
  }
  // Pending Closed messages free channels: one turn takes them in, and more turns (until the
  // deadline) only while every channel is busy and messages still wait.
  auto more = drain_control();
  if (!more) return std::unexpected(more.error());
  if (target.kind == kTargetUnixPath && (hello_reply_.features & kFeatureUnixTargets) == 0)
    return fail(Errc::kInvalidArgument, "the guest relay does not accept Unix socket targets");
  if (options.framed && (hello_reply_.features & kFeatureFramedPdus) == 0)
    return fail(Errc::kInvalidArgument, "the guest relay does not frame PDUs");
  // The surface channel (a bus formatted with a surface pool) carries surface messages between
  // the appserver and the viewer, never an RDP connection.
  const std::uint32_t surfaces = bus_.has_surface_pool() ? bus_.surface_channel() : 0;
  const auto free_channel = [&]() -> std::uint32_t {
    for (std::uint32_t i = 1; i < slots_.size(); ++i)
      if (i != surfaces && slots_[i].state == SlotState::kFree) return i;
    return 0;
  };
  std::uint32_t channel = free_channel();
  while (channel == 0 && *more && Clock::now() < deadline) {
    more = drain_control();
    if (!more) return std::unexpected(more.error());
    channel = free_channel();
  }
  if (channel == 0)
    return fail(Errc::kNoFreeChannel, "all " + std::to_string(slots_.size() - 1 - (surfaces != 0 ? 1 : 0)) + " connection channels are in use");
  if (bus_.channel(channel).faulted()) bus_.channel(channel).reset();
  discard_rx(channel);

  const std::uint32_t request = next_request_++;
  const std::uint16_t flags = options.framed ? kOpenFramed : 0;
  auto msg = target.kind == kTargetUnixPath ? make_open_unix(request, channel, target.path, flags)
                                            : make_open_tcp(request, channel, target.port, flags);
  if (!msg) return std::unexpected(msg.error());
  Slot& s = slots_[channel];
  s.state = SlotState::kOpening;
  s.request_id = request;
  s.host_closed = false;
  s.close_requested = false;
  s.guest_closed.store(false, std::memory_order_relaxed);
  s.closed_error = 0;
  s.closed_text.clear();
  open_request_ = request;
  open_reply_.reset();
  counters_.opens.fetch_add(1, std::memory_order_relaxed);
  if (auto r = send(*msg, deadline); !r) {
    s.state = SlotState::kFree;
    return std::unexpected(r.error());
  }
  auto waited = wait_until([&] { return open_reply_.has_value(); }, deadline);
  open_request_ = 0;
  if (!waited) {
    // The guest may still answer: Opened is then closed at once, OpenFailed frees the slot.
    s.state = SlotState::kAbandoned;
    counters_.open_failures.fetch_add(1, std::memory_order_relaxed);
    return std::unexpected(waited.error());
  }
  if (const auto* f = std::get_if<OpenFailedMsg>(&*open_reply_)) {
    s.state = SlotState::kFree;
    counters_.open_failures.fetch_add(1, std::memory_order_relaxed);
    return fail(Errc::kOpenFailed, "guest could not open the target: " + std::string(text_of(*f)), f->error);
  }
  s.state = SlotState::kOpen;
  live_connections_.fetch_add(1);
  return std::unique_ptr<Connection>(
      new Connection(*this, bus_.channel(channel), options.framed, timestamps_negotiated()));
}

Result<std::chrono::nanoseconds> HostMux::ping(std::chrono::nanoseconds timeout) {
  ControlLock lock(*this);
  const auto deadline = deadline_after(timeout);
  const std::uint64_t nonce = monotonic_ns() ^ 0x5a5a5a5a5a5a5a5aull;
  const std::uint64_t t0 = monotonic_ns();
  pong_.reset();
  if (auto r = send(PingMsg{nonce, t0}, deadline); !r) return std::unexpected(r.error());
  if (auto r = wait_until([&] { return pong_ && pong_->nonce == nonce; }, deadline); !r)
    return std::unexpected(r.error());
  return std::chrono::nanoseconds(monotonic_ns() - t0);
}

Result<StatsReplyMsg> HostMux::stats(std::chrono::nanoseconds timeout) {
  ControlLock lock(*this);
  const auto deadline = deadline_after(timeout);
  stats_reply_.reset();
  if (auto r = send(StatsRequestMsg{0}, deadline); !r) return std::unexpected(r.error());
  if (auto r = wait_until([&] { return stats_reply_.has_value(); }, deadline); !r)
    return std::unexpected(r.error());
  return *stats_reply_;
}

}  // namespace vitrine::rdpmux
