#include "vitrine/relay/relay.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "relay_connection.hpp"
#include "relay_ops.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/perf/probes.hpp"
#include "vitrine/relay/socket_target.hpp"

namespace vitrine::relay {

Relay::Relay(ringbus::Bus& bus, const rdpmux::BusDoorbells& doorbells, IoEngine& io, RelayOptions options)
    : bus_(bus), doorbells_(doorbells), io_(io), options_(options) {
  conns_.reserve(bus.channel_count());
  for (std::uint32_t i = 0; i < bus.channel_count(); ++i) {
    auto c = std::make_unique<RelayConnection>(bus.channel(i));
    conns_.push_back(std::move(c));
  }
}

Relay::~Relay() { shutdown(); }

rdpmux::Result<std::unique_ptr<Relay>> Relay::create(ringbus::Bus& bus, const rdpmux::BusDoorbells& doorbells,
                                                     IoEngine& io, RelayOptions options) {
  if (bus.side() != ringbus::Side::kGuest)
    return rdpmux::fail(Errc::kInvalidArgument, "the relay needs the guest side of the bus");
  if (auto r = doorbells.apply(bus); !r) return std::unexpected(r.error());
  std::unique_ptr<Relay> relay(new Relay(bus, doorbells, io, options));
  if (options.register_memory && !io.register_memory(bus.base(), bus.size()))
    base::log_info("bus memory not registered as a fixed buffer; receiving with plain recv");
  return relay;
}

std::uint32_t Relay::open_connections() const {
  std::uint32_t n = 0;
  for (const auto& c : conns_) n += (c->state != ConnState::kIdle) ? 1 : 0;
  return n;
}

rdpmux::StatsReplyMsg Relay::stats_snapshot() const {
  rdpmux::StatsReplyMsg s{};
  s.open_connections = open_connections();
  s.fixed_buffers = io_.memory_registered() ? 1 : 0;
  s.connections_total = counters_.connections_total.get();
  s.open_failures = counters_.open_failures.get();
  s.bytes_to_host = counters_.bytes_to_host.get();
  s.bytes_from_host = counters_.bytes_from_host.get();
  s.records_to_host = counters_.records_to_host.get();
  s.records_from_host = counters_.records_from_host.get();
  s.backpressure_events = counters_.backpressure_events.get();
  s.bytes_copied = counters_.bytes_copied.get();
  s.bytes_received_elsewhere = counters_.bytes_received_elsewhere.get();
  s.framing_errors = counters_.framing_errors.get();
  s.protocol_errors = counters_.protocol_errors.get();
  return s;
}

// ---- connections --------------------------------------------------------------------------

bool Relay::discard_h2g(RelayConnection& c) {
  bool any = false;
  for (;;) {
    auto n = c.channel.rx().read([](const ringbus::RecordView&) {}, 256);
    if (!n || *n == 0) break;
    any = true;
    c.channel.notify_released();
  }
  return any;
}

void Relay::commit_to_host(RelayConnection& c, std::uint32_t used, std::uint16_t flags) {
  const std::uint64_t commit_ns = stamps_ ? base::monotonic_ns() : 0;
  c.channel.tx().commit(used, rdpmux::kRecordData, flags);
  c.claim = {};
  c.filled = c.boundary = 0;
  c.bytes_to_host += used;
  counters_.bytes_to_host.add(used);
  counters_.records_to_host.add();
  if (stamps_ && c.receive_ns != 0) {
    // Right behind its data record, published with the same doorbell: one wake-up for both.
    ringbus::Ring& tx = c.channel.tx();
    auto cl = tx.try_claim(sizeof(rdpmux::StampRecord));
    if (cl && *cl) {
      const auto stamp = rdpmux::encode_stamp(std::min(c.receive_ns, commit_ns), commit_ns);
      std::memcpy((*cl).data, stamp.data(), stamp.size());
      tx.commit(static_cast<std::uint32_t>(stamp.size()), rdpmux::kRecordStamp);
      counters_.stamps.add();
    } else {
      counters_.stamps_skipped.add();  // a sample lost, never a byte: stamps are not flow control
    }
  }
  c.receive_ns = 0;
  c.channel.notify_sent();
}

bool Relay::pump(RelayConnection& c) {
  switch (c.state) {
    case ConnState::kIdle: return c.used && discard_h2g(c);
    case ConnState::kConnecting: return false;
    case ConnState::kOpen: {
      bool progress = pump_rx(c);
      progress |= pump_tx(c);
      if (c.state == ConnState::kOpen && c.rx_done && c.tx_done) {
        fail(c, 0, "both directions ended", false);
        progress = true;
      }
      return progress;
    }
    case ConnState::kClosing: return finish_close(c);
  }
  return false;
}

bool Relay::pump_rx(RelayConnection& c) {
  if (c.recv_inflight || c.rx_done) return false;
  ringbus::Ring& tx = c.channel.tx();
  if (c.rx_eof) {
    auto sent = c.channel.try_send(rdpmux::kRecordEnd, rdpmux::encode_end(0));
    if (!sent) {
      fail(c, EIO, "g2h ring fault: " + sent.error().message, false);
      return true;
    }
    if (!*sent) {
      c.blocked_full = true;
      c.blocked_need = sizeof(rdpmux::EndRecord);
      return false;
    }
    c.blocked_full = false;
    c.rx_done = true;
    return true;
  }
  if (!c.claim) {
    auto cl = tx.try_claim(c.claim_size);
    if (!cl) {
      fail(c, EIO, "g2h ring fault: " + cl.error().message, false);
      return true;
    }
    if (!*cl) {
      if (!c.blocked_full) counters_.backpressure_events.add();
      c.blocked_full = true;
      c.blocked_need = c.claim_size;
      return false;
    }
    c.blocked_full = false;
    c.claim = *cl;
    c.filled = c.boundary = 0;
  }
  std::uint32_t length;
  if (!c.framed) {
    length = c.claim.capacity;
  } else if (c.framer.at_boundary() && c.greedy != 0) {
    length = c.greedy - c.filled;  // filled is 0 here: a boundary commits at once
  } else {
    length = static_cast<std::uint32_t>(c.framer.wanted());
  }
  if (length == 0 || c.filled + length > c.claim.capacity) {
    // Impossible by construction (a PDU that starts before `greedy` ends inside the claim).
    fail(c, EPROTO, "internal: receive of " + std::to_string(length) + " bytes at " + std::to_string(c.filled) +
                        " exceeds the claim of " + std::to_string(c.claim.capacity), true);
    return true;
  }
  io_.recv(c.socket.fd.get(), c.claim.data + c.filled, length, token(kOpRecv, c.channel.id(), c.generation));
  ++c.inflight;
  c.recv_inflight = true;
  return true;
}

bool Relay::pump_tx(RelayConnection& c) {
  if (c.send_inflight || c.tx_done) return false;
  ringbus::Ring& rx = c.channel.rx();
  if (c.iov_first >= c.iov.size()) {
    c.iov.clear();
    c.ends.clear();
    c.iov_first = 0;
    std::size_t bytes = 0;
    while (!c.tx_end_seen && c.iov.size() < 64 && bytes < (1u << 20)) {
      auto v = rx.peek();
      if (!v) {
        fail(c, EIO, "h2g ring fault: " + v.error().message, true);
        return true;
      }
      if (!*v) break;
      if (v->type == rdpmux::kRecordData) {
        // The payload stays in the ring until the kernel has taken it: sent from here.
        c.iov.push_back(iovec{const_cast<std::byte*>(v->payload.data()), v->payload.size()});
        c.ends.push_back(v->end_position);
        bytes += v->payload.size();
        counters_.records_from_host.add();
      } else if (v->type == rdpmux::kRecordEnd) {
        c.tx_end_seen = true;
        c.tx_end_position = v->end_position;
      } else {
        counters_.protocol_errors.add();
        fail(c, EPROTO, "host sent record type " + std::to_string(v->type) + " on a data channel", true);
        return true;
      }
    }
    if (c.iov.empty()) {
      if (!c.tx_end_seen) {
        // Nothing is peeked but a padding record peek() may have stepped over: free it, or
        // the host, waiting for that space, would wait forever.
        rx.release();
        c.channel.notify_released();
        return false;
      }
      // Every byte before the host's End is in the socket: half-close toward the target.
      ::shutdown(c.socket.fd.get(), SHUT_WR);
      rx.release_until(c.tx_end_position);
      c.channel.notify_released();
      c.tx_done = true;
      return true;
    }
  }
  c.msg = msghdr{};
  c.msg.msg_iov = c.iov.data() + c.iov_first;
  c.msg.msg_iovlen = c.iov.size() - c.iov_first;
  io_.sendmsg(c.socket.fd.get(), &c.msg, token(kOpSend, c.channel.id(), c.generation));
  ++c.inflight;
  c.send_inflight = true;
  return true;
}

void Relay::on_connect(RelayConnection& c, int result) {
  if (c.state != ConnState::kConnecting) return;  // closed meanwhile
  if (result < 0) {
    counters_.open_failures.add();
    reply(rdpmux::make_open_failed(c.request_id, c.channel.id(), -result,
                                   "connect " + c.socket.description + ": " + std::strerror(-result)));
    c.socket.fd.reset();
    c.state = ConnState::kIdle;
    return;
  }
  counters_.connections_total.add();
  c.state = ConnState::kOpen;
  c.opened = true;
  VITRINE_PROBE1(conn_opened, c.channel.id());
  reply(rdpmux::OpenedMsg{c.request_id, c.channel.id(), c.framed ? rdpmux::kOpenFramed : 0u, 0});
}

void Relay::on_recv(RelayConnection& c, int result) {
  c.recv_inflight = false;
  if (c.state != ConnState::kOpen) return;  // closing: the claim is dropped in finish_close
  if (result > 0) {
    const auto n = static_cast<std::uint32_t>(result);
    counters_.recvs.add();
    if (stamps_ && c.receive_ns == 0) c.receive_ns = base::monotonic_ns();
    std::byte* at = c.claim.data + c.filled;
    // Counted, not assumed: a receive that did not land in ring memory would need a copy.
    if (at < bus_.base() || at + n > bus_.base() + bus_.size()) counters_.bytes_received_elsewhere.add(n);
    if (!c.framed) {
      commit_to_host(c, n, 0);
      return;
    }
    std::span<const std::byte> fresh(at, n);
    std::uint32_t pos = c.filled;
    while (!fresh.empty()) {
      auto r = c.framer.feed(fresh);
      if (!r) {
        counters_.framing_errors.add();
        if (c.boundary > 0) {
          commit_to_host(c, c.boundary, rdpmux::kDataWholePdus);
        }
        fail(c, EPROTO, r.error().message, true);
        return;
      }
      pos += static_cast<std::uint32_t>(r->consumed);
      fresh = fresh.subspan(r->consumed);
      if (r->pdu_complete) {
        c.boundary = pos;
        VITRINE_PROBE3(pdu_framed, c.channel.id(), r->length, static_cast<int>(r->kind));
      }
    }
    c.filled = pos;
    if (c.framer.at_boundary()) commit_to_host(c, c.filled, rdpmux::kDataWholePdus);
    return;
  }
  if (result == 0) {
    if (c.framed && !c.framer.at_boundary()) {
      if (c.boundary > 0) commit_to_host(c, c.boundary, rdpmux::kDataWholePdus);
      counters_.framing_errors.add();
      fail(c, EPROTO, "stream ended inside a PDU at offset " + std::to_string(c.framer.offset()), true);
      return;
    }
    if (c.claim) {
      c.channel.tx().abort();
      c.claim = {};
    }
    c.rx_eof = true;
    return;
  }
  if (c.framed && c.boundary > 0) commit_to_host(c, c.boundary, rdpmux::kDataWholePdus);
  fail(c, -result, std::string("recv from ") + c.socket.description + ": " + std::strerror(-result), true);
}

void Relay::on_send(RelayConnection& c, int result) {
  c.send_inflight = false;
  if (c.state != ConnState::kOpen) return;
  if (result < 0) {
    fail(c, -result, std::string("send to ") + c.socket.description + ": " + std::strerror(-result), true);
    return;
  }
  counters_.sends.add();
  auto left = static_cast<std::size_t>(result);
  c.bytes_from_host += left;
  counters_.bytes_from_host.add(left);
  ringbus::Ring& rx = c.channel.rx();
  bool released = false;
  while (c.iov_first < c.iov.size() && left >= c.iov[c.iov_first].iov_len) {
    left -= c.iov[c.iov_first].iov_len;
    rx.release_until(c.ends[c.iov_first]);
    released = true;
    ++c.iov_first;
  }
  if (c.iov_first == c.iov.size() && left == 0) {
    // The whole batch is sent: also free padding peeked after its last record.
    rx.release();
    released = true;
  }
  if (left > 0) {
    iovec& part = c.iov[c.iov_first];
    part.iov_base = static_cast<std::byte*>(part.iov_base) + left;
    part.iov_len -= left;
  }
  if (released) c.channel.notify_released();
}

void Relay::fail(RelayConnection& c, int error, std::string text, bool send_end) {
  if (c.state == ConnState::kIdle || c.state == ConnState::kClosing) return;
  if (error != 0 && error != ESHUTDOWN) base::log_warn("channel {}: {}", c.channel.id(), text);
  if (c.state == ConnState::kConnecting) {
    // The host closed before connect finished: it still waits for an answer to its Open.
    counters_.open_failures.add();
  }
  VITRINE_PROBE2(conn_closed, c.channel.id(), error);
  c.error = error;
  c.text = std::move(text);
  c.send_end = send_end && !c.rx_done;
  c.state = ConnState::kClosing;
  if (c.inflight > 0 && !c.cancel_queued) {
    io_.cancel_fd(c.socket.fd.get(), token(kOpCancel, c.channel.id(), c.generation));
    ++c.inflight;
    c.cancel_queued = true;
  }
}

bool Relay::finish_close(RelayConnection& c) {
  if (c.inflight > 0) return false;
  if (c.claim) {
    // No receive is running any more: the claimed span is ours to drop.
    c.channel.tx().abort();
    c.claim = {};
  }
  if (c.send_end) {
    auto sent = c.channel.try_send(rdpmux::kRecordEnd, rdpmux::encode_end(c.error ? c.error : EPROTO));
    if (sent && !*sent) {
      c.blocked_full = true;
      c.blocked_need = sizeof(rdpmux::EndRecord);
      return false;  // wait for room (or for the host's Close, which clears send_end)
    }
    c.send_end = false;
  }
  c.blocked_full = false;
  c.socket.fd.reset();
  // Records peeked for sending are left unreleased: the next Open discards them.
  c.iov.clear();
  c.ends.clear();
  c.iov_first = 0;
  c.state = ConnState::kIdle;
  if (!c.opened) {
    // Never answered Opened: the host still waits for the answer to its Open.
    reply(rdpmux::make_open_failed(c.request_id, c.channel.id(), c.error ? c.error : ECANCELED, c.text));
    return true;
  }
  reply(rdpmux::make_closed(c.channel.id(), c.error, c.bytes_to_host, c.bytes_from_host, c.text));
  return true;
}

void Relay::on_completion(const IoCompletion& cq) {
  const auto op = static_cast<Op>(cq.token & 0xff);
  const auto channel = static_cast<std::uint32_t>((cq.token >> 8) & 0xffffff);
  const auto generation = static_cast<std::uint32_t>(cq.token >> 32);
  if (op == kOpDoorbell) {
    doorbell_polled_ = false;
    if (auto* bell = doorbells_.guest()) bell->drain();
    return;
  }
  if (op == kOpStop) {
    stop_polled_ = false;
    stop_seen_ = true;
    return;
  }
  if (op == kOpCatalog) {
    catalog_polled_ = false;
    if (catalog_) take_catalog();
    return;
  }
  if (channel >= conns_.size()) return;
  RelayConnection& c = *conns_[channel];
  if (generation != c.generation) return;
  --c.inflight;
  switch (op) {
    case kOpConnect: on_connect(c, cq.result); break;
    case kOpRecv: on_recv(c, cq.result); break;
    case kOpSend: on_send(c, cq.result); break;
    default: break;
  }
}

// ---- sleeping -----------------------------------------------------------------------------

bool Relay::arm_and_recheck() {
  armed_consumer_.clear();
  armed_producer_.clear();
  // Each arm_*() is the ringbus hand-shake (flag up, then look again); true = ready now, do not
  // sleep. A fault counts as ready: the loop handles it. disarm() lowers every flag raised.
  auto arm_reader = [this](ringbus::Ring& r) {
    armed_consumer_.push_back(&r);
    auto x = r.arm_readable();
    return !x || *x;
  };
  auto arm_writer = [this](ringbus::Ring& r, std::uint32_t need) {
    armed_producer_.push_back(&r);
    auto x = r.arm_writable(need);
    return !x || *x;
  };
  if (arm_reader(conns_[rdpmux::kControlChannel]->channel.rx())) return true;
  // Replies or catalogue records wait for room on g2h 0: the host's release must wake us.
  if (!pending_replies_.empty()) {
    if (arm_writer(conns_[0]->channel.tx(), static_cast<std::uint32_t>(pending_replies_.front().size))) return true;
  } else if (!catalog_out_.empty()) {
    if (arm_writer(conns_[0]->channel.tx(), static_cast<std::uint32_t>(catalog_out_.front().size()))) return true;
  }
  for (std::size_t i = 1; i < conns_.size(); ++i) {
    RelayConnection& c = *conns_[i];
    const bool wants_h2g = (c.state == ConnState::kIdle && c.used) ||
                           (c.state == ConnState::kOpen && !c.send_inflight && !c.tx_done);
    if (wants_h2g && arm_reader(c.channel.rx())) return true;
    if (c.blocked_full && arm_writer(c.channel.tx(), c.blocked_need)) return true;
  }
  return false;
}

void Relay::disarm() {
  for (auto* r : armed_consumer_) r->disarm_readable();
  for (auto* r : armed_producer_) r->disarm_writable();
  armed_consumer_.clear();
  armed_producer_.clear();
}

rdpmux::Result<void> Relay::run_once(std::chrono::nanoseconds max_wait) {
  if (catalog_ && !catalog_polled_) {
    io_.poll_readable(catalog_->ready_fd(), token(kOpCatalog, 0, 0));
    catalog_polled_ = true;
  }
  bool progress = flush_replies();
  progress |= handle_control();
  progress |= flush_catalog();
  for (std::size_t i = 1; i < conns_.size(); ++i) progress |= pump(*conns_[i]);

  bool sleep = false;
  std::chrono::nanoseconds wait{0};
  const auto now = Clock::now();
  if (progress) {
    idle_since_ = now;
    poll_step_ = std::chrono::nanoseconds(1000);
  } else if (now - idle_since_ >= options_.spin) {
    if (!arm_and_recheck()) {
      sleep = true;
      if (auto* bell = doorbells_.guest()) {
        if (!doorbell_polled_) {
          io_.poll_readable(bell->fd(), token(kOpDoorbell, 0, 0));
          doorbell_polled_ = true;
        }
        wait = max_wait;
      } else {
        // No doorbell (ivshmem-plain): sleep in growing steps and look again.
        wait = std::min(poll_step_, max_wait);
        poll_step_ = std::min(poll_step_ * 2, std::chrono::nanoseconds(options_.poll_max_sleep));
      }
    }
  }
  completions_.clear();
  auto r = io_.run(sleep, wait, completions_);
  disarm();
  if (!r) return r;
  if (!completions_.empty()) idle_since_ = Clock::now();
  for (const auto& cq : completions_) on_completion(cq);
  return {};
}

rdpmux::Result<void> Relay::run(const std::atomic<bool>& stop, int stop_fd) {
  idle_since_ = Clock::now();
  while (!stop.load(std::memory_order_relaxed) && !stop_seen_) {
    if (stop_fd >= 0 && !stop_polled_) {
      io_.poll_readable(stop_fd, token(kOpStop, 0, 0));
      stop_polled_ = true;
    }
    if (auto r = run_once(std::chrono::milliseconds(100)); !r) {
      shutdown();
      return r;
    }
  }
  shutdown();
  return {};
}

void Relay::shutdown() {
  bool any = false;
  for (std::size_t i = 1; i < conns_.size(); ++i) {
    RelayConnection& c = *conns_[i];
    if (c.state == ConnState::kIdle) continue;
    any = true;
    if (c.state != ConnState::kClosing) fail(c, ESHUTDOWN, "relay shutting down", true);
  }
  if (!any) return;
  // Give the engine the chance to complete cancelled operations (buffers are ring memory).
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < deadline) {
    bool busy = false;
    for (std::size_t i = 1; i < conns_.size(); ++i) {
      RelayConnection& c = *conns_[i];
      if (c.state == ConnState::kClosing) {
        c.send_end = c.send_end && c.channel.tx().writable(sizeof(rdpmux::EndRecord)).value_or(false);
        if (!finish_close(c)) busy = true;
      }
    }
    flush_replies();
    if (!busy) break;
    completions_.clear();
    if (!io_.run(true, std::chrono::milliseconds(10), completions_)) break;
    for (const auto& cq : completions_) on_completion(cq);
  }
}

}  // namespace vitrine::relay
