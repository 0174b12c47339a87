#include "vitrine/rdpmux/mux/host_mux.hpp"

#include <unistd.h>

#include <algorithm>

#include "catalog_receiver.hpp"
#include "channel_table.hpp"
#include "clock_prober.hpp"
#include "control_link.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"

// HostMux: the control calls (open, ping, stats, sync_clock, request_catalog, wait_ready), the
// dispatch of guest messages to its parts, and the event-loop hand-shake. The parts, one class
// each: ControlLink (channel 0), ChannelTable (connection channels), ClockProber (clock and
// stamps), CatalogReceiver (catalogue fragments).
namespace vitrine::rdpmux {

using base::Clock;
using base::deadline_after;
using base::monotonic_ns;

HostMux::HostMux(ringbus::Bus& bus, BusDoorbells doorbells, HostMuxOptions options)
    : bus_(bus), doorbells_(std::move(doorbells)), options_(std::move(options)) {
  // Nobody to hand a catalogue to: do not ask the guest to send one.
  if (!options_.on_catalog_fragment) options_.features &= ~kFeatureCatalog;
  // Nobody to hand stamps to: the relay should not spend ring space on them.
  if (!options_.on_stamp) options_.features &= ~kFeatureTimestamps;
  link_ = std::make_unique<ControlLink>(bus_, doorbells_, options_, counters_);
  channels_ = std::make_unique<ChannelTable>(bus_, *link_, counters_);
  clock_ = std::make_unique<ClockProber>(*link_, options_, counters_);
  catalog_ = std::make_unique<CatalogReceiver>(*link_, options_, counters_);
}

HostMux::~HostMux() {
  if (live_connections_.load() != 0)
    base::log_error("rdpmux: HostMux destroyed with {} live connections (they must be closed first)",
                    live_connections_.load());
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
  if (auto r = mux->link_->send(make_hello(mux->options_.features, bus.channel_count()),
                                deadline_after(std::chrono::seconds(1)));
      !r)
    return std::unexpected(r.error());
  return mux;
}

Result<bool> HostMux::drain_control() {
  channels_->flush_closes();
  return link_->drain([this](const ControlMessage& m) { handle(m); });
}

void HostMux::handle(const ControlMessage& message) {
  const std::uint16_t type = message_type_of(message);
  if (message_sender(type) == Sender::kHost) {
    link_->protocol_error(type, kErrWrongDirection, std::string(message_name(type)) + " is sent by the host");
    return;
  }
  if (const auto* hr = std::get_if<HelloReplyMsg>(&message)) {
    handle_hello_reply(*hr);
  } else if (const auto* op = std::get_if<OpenedMsg>(&message)) {
    const auto answer = channels_->on_opened(*op);
    if (answer == ChannelTable::Answer::kOpened && open_request_ == op->request_id) open_reply_ = message;
    if (answer == ChannelTable::Answer::kUnexpected)
      link_->protocol_error(type, kErrBadChannel, "Opened for channel " + std::to_string(op->channel) +
                                                      " request " + std::to_string(op->request_id) +
                                                      " that is not being opened");
  } else if (const auto* of = std::get_if<OpenFailedMsg>(&message)) {
    const auto answer = channels_->on_open_failed(*of, open_request_);
    if (answer == ChannelTable::Answer::kForCaller) open_reply_ = message;
    if (answer == ChannelTable::Answer::kUnexpected)
      link_->protocol_error(type, kErrBadChannel, "OpenFailed for channel " + std::to_string(of->channel) +
                                                      " that is not being opened");
  } else if (const auto* cl = std::get_if<ClosedMsg>(&message)) {
    if (!channels_->on_closed(*cl))
      link_->protocol_error(type, kErrBadChannel, "Closed for channel " + std::to_string(cl->channel) +
                                                      " that is not open");
  } else if (const auto* pi = std::get_if<PingMsg>(&message)) {
    link_->reply(PongMsg{pi->nonce, pi->sent_ns});
  } else if (const auto* po = std::get_if<PongMsg>(&message)) {
    pong_ = *po;
  } else if (const auto* st = std::get_if<StatsReplyMsg>(&message)) {
    stats_reply_ = *st;
  } else if (const auto* cf = std::get_if<CatalogFragmentMsg>(&message)) {
    if (!catalog_negotiated())
      link_->protocol_error(kMsgCatalogFragment, kErrNotNegotiated,
                            "CatalogFragment without kFeatureCatalog agreed in Hello");
    else
      catalog_->on_fragment(*cf);
  } else if (const auto* cr = std::get_if<ClockReplyMsg>(&message)) {
    if (!timestamps_negotiated())
      link_->protocol_error(kMsgClockReply, kErrNotNegotiated, "ClockReply without kFeatureTimestamps agreed in Hello");
    else
      clock_->on_reply(*cr);
  } else if (const auto* er = std::get_if<ErrorReplyMsg>(&message)) {
    counters_.error_replies.fetch_add(1, std::memory_order_relaxed);
    if (auto a = link_->admit_guest_line())
      base::log_warn("rdpmux: the guest rejected a {} message: {}{}", message_name(er->offending_type), text_of(*er),
                     a.suffix());
  }
}

void HostMux::handle_hello_reply(const HelloReplyMsg& reply) {
  if (reply.version != kProtocolVersion || (reply.features & ~options_.features) != 0) {
    link_->protocol_error(kMsgHelloReply, kErrVersion, "HelloReply version " + std::to_string(reply.version) +
                                                           " features " + std::to_string(reply.features));
    return;
  }
  hello_reply_ = reply;
  accepted_features_.store(reply.features, std::memory_order_relaxed);
  // A new HelloReply (the relay restarted) starts the catalogue afresh; a restarted guest
  // may also have a new clock (a rebooted VM), so the samples start afresh too.
  catalog_->restart();
  clock_->restart();
  ready_.store(true, std::memory_order_release);
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
  for (;;) {
    auto more = drain_control();
    if (!more) return std::unexpected(more.error());
    if (done()) return {};
    const auto now = Clock::now();
    if (now >= deadline) return fail(Errc::kTimeout, "no answer from the guest relay in time");
    // The turn stopped at its budget: the next one at once (a flooding guest meets the deadline
    // between turns instead of holding this loop inside one).
    if (*more) continue;
    if (auto w = link_->wait_readable(deadline - now); !w) return w;
  }
}

Result<void> HostMux::wait_until_ready(Clock::time_point deadline) {
  auto r = wait_until([&] { return ready(); }, deadline);
  if (!r && r.error().code == Errc::kTimeout)
    return fail(Errc::kTimeout, "the guest relay did not answer Hello (is vitrine-guest running?)");
  return r;
}

Result<HelloReplyMsg> HostMux::wait_ready(std::chrono::nanoseconds timeout) {
  ControlLock lock(*this);
  if (auto r = wait_until_ready(deadline_after(timeout)); !r) return std::unexpected(r.error());
  return hello_reply_;
}

bool HostMux::guest_closed(std::uint32_t channel) const { return channels_->guest_closed(channel); }

void HostMux::connection_closed(std::uint32_t channel) {
  ControlLock lock(*this);
  channels_->connection_closed(channel);
  live_connections_.fetch_sub(1);
}

void HostMux::deliver_stamp(std::uint32_t channel, std::span<const std::byte> payload, std::uint64_t data_bytes,
                            std::uint64_t read_ns) {
  clock_->deliver_stamp(channel, payload, data_bytes, read_ns);
}

ringbus::EventfdDoorbell* HostMux::host_doorbell(std::uint32_t channel) const { return doorbells_.host(channel); }

std::uint32_t HostMux::free_channels() const {
  std::lock_guard lock(mutex_);
  return channels_->free_count();
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
  if (timestamps_negotiated()) clock_->maybe_probe();
  return more && *more;
}

int HostMux::control_wake_fd() const { return link_->wake_fd(); }

bool HostMux::arm_control_wake() {
  loop_armed_.store(true, std::memory_order_seq_cst);  // see rewake_event_loop()
  std::unique_lock lock(mutex_, std::try_to_lock);
  // A control call is running: it drains, and rings control_wake_fd() when it is done.
  if (!lock.owns_lock()) return true;
  // The ringbus hand-shake (flag, then look again); poll() disarms.
  auto readable = bus_.channel(kControlChannel).rx().arm_readable();
  return readable && !*readable;  // a faulted ring: poll() resets it
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

bool HostMux::timestamps_negotiated() const {
  return ready() && (accepted_features_.load(std::memory_order_relaxed) & kFeatureTimestamps) != 0;
}

std::optional<ClockEstimate> HostMux::clock_estimate() const { return clock_->estimate(); }

Result<ClockEstimate> HostMux::sync_clock(std::chrono::nanoseconds timeout, int rounds) {
  ControlLock lock(*this);
  const auto deadline = deadline_after(timeout);
  if (auto r = wait_until([&] { return ready(); }, deadline); !r) return std::unexpected(r.error());
  if ((hello_reply_.features & kFeatureTimestamps) == 0)
    return fail(Errc::kInvalidArgument, (options_.features & kFeatureTimestamps) == 0
                                            ? "timestamps were not asked for (HostMuxOptions::on_stamp is not set)"
                                            : "the guest relay does not offer timestamps (an older vitrine-guest?)");
  for (int i = 0; i < std::max(rounds, 1); ++i) {
    auto nonce = clock_->send_probe(deadline);
    if (!nonce) return std::unexpected(nonce.error());
    // The prober takes the probe out of flight when the matching reply arrives.
    if (auto r = wait_until([&] { return clock_->answered(*nonce); }, deadline); !r)
      return std::unexpected(r.error());
  }
  auto estimate = clock_->estimate();
  if (!estimate) return fail(Errc::kMalformed, "the guest relay's ClockReplies were unusable");
  return *estimate;
}

Result<void> HostMux::request_catalog(std::chrono::nanoseconds timeout) {
  ControlLock lock(*this);
  const auto deadline = deadline_after(timeout);
  if ((options_.features & kFeatureCatalog) == 0)
    return fail(Errc::kInvalidArgument, "no catalogue was asked for (HostMuxOptions::on_catalog_fragment is not set)");
  if (!ready())
    if (auto r = wait_until_ready(deadline); !r) return r;
  if ((hello_reply_.features & kFeatureCatalog) == 0)
    return fail(Errc::kInvalidArgument, "the guest relay publishes no catalogue (vitrine-guest --no-catalog?)");
  return link_->send(CatalogRequestMsg{0}, deadline);
}

Result<std::unique_ptr<Connection>> HostMux::open(const Target& target, OpenOptions options) {
  ControlLock lock(*this);
  const auto deadline = deadline_after(options.timeout);
  if (!ready())
    if (auto r = wait_until_ready(deadline); !r) return std::unexpected(r.error());
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
  std::uint32_t channel = channels_->find_free(surfaces);
  while (channel == 0 && *more && Clock::now() < deadline) {
    more = drain_control();
    if (!more) return std::unexpected(more.error());
    channel = channels_->find_free(surfaces);
  }
  if (channel == 0)
    return fail(Errc::kNoFreeChannel, "all " + std::to_string(channels_->size() - 1 - (surfaces != 0 ? 1 : 0)) +
                                          " connection channels are in use");
  if (bus_.channel(channel).faulted()) bus_.channel(channel).reset();
  channels_->discard_rx(channel);

  const std::uint32_t request = next_request_++;
  const std::uint16_t flags = options.framed ? kOpenFramed : 0;
  auto msg = target.kind == kTargetUnixPath ? make_open_unix(request, channel, target.path, flags)
                                            : make_open_tcp(request, channel, target.port, flags);
  if (!msg) return std::unexpected(msg.error());
  channels_->begin_open(channel, request);
  open_request_ = request;
  open_reply_.reset();
  counters_.opens.fetch_add(1, std::memory_order_relaxed);
  if (auto r = link_->send(*msg, deadline); !r) {
    channels_->mark_free(channel);
    return std::unexpected(r.error());
  }
  auto waited = wait_until([&] { return open_reply_.has_value(); }, deadline);
  open_request_ = 0;
  if (!waited) {
    // The guest may still answer: Opened is then closed at once, OpenFailed frees the slot.
    channels_->mark_abandoned(channel);
    counters_.open_failures.fetch_add(1, std::memory_order_relaxed);
    return std::unexpected(waited.error());
  }
  if (const auto* f = std::get_if<OpenFailedMsg>(&*open_reply_)) {
    channels_->mark_free(channel);
    counters_.open_failures.fetch_add(1, std::memory_order_relaxed);
    return fail(Errc::kOpenFailed, "guest could not open the target: " + std::string(text_of(*f)), f->error);
  }
  channels_->mark_open(channel);
  live_connections_.fetch_add(1);
  return std::make_unique<Connection>(*this, bus_.channel(channel), options.framed, timestamps_negotiated());
}

Result<std::chrono::nanoseconds> HostMux::ping(std::chrono::nanoseconds timeout) {
  ControlLock lock(*this);
  const auto deadline = deadline_after(timeout);
  const std::uint64_t nonce = monotonic_ns() ^ 0x5a5a5a5a5a5a5a5aull;
  const std::uint64_t t0 = monotonic_ns();
  pong_.reset();
  if (auto r = link_->send(PingMsg{nonce, t0}, deadline); !r) return std::unexpected(r.error());
  if (auto r = wait_until([&] { return pong_ && pong_->nonce == nonce; }, deadline); !r)
    return std::unexpected(r.error());
  return std::chrono::nanoseconds(monotonic_ns() - t0);
}

Result<StatsReplyMsg> HostMux::stats(std::chrono::nanoseconds timeout) {
  ControlLock lock(*this);
  const auto deadline = deadline_after(timeout);
  stats_reply_.reset();
  if (auto r = link_->send(StatsRequestMsg{0}, deadline); !r) return std::unexpected(r.error());
  if (auto r = wait_until([&] { return stats_reply_.has_value(); }, deadline); !r)
    return std::unexpected(r.error());
  return *stats_reply_;
}

}  // namespace vitrine::rdpmux
