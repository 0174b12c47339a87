// Relay, channel 0: control messages from the host and the replies, and the application
// catalogue's records (see relay.hpp for the loop, control_layout.hpp for the protocol).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>

#include "relay_connection.hpp"
#include "relay_ops.hpp"
#include "vitrine/relay/relay.hpp"
#include "vitrine/relay/socket_target.hpp"

namespace vitrine::relay {

// ---- control channel ---------------------------------------------------------------------

void Relay::reply(const rdpmux::ControlMessage& message) {
  pending_replies_.push_back(rdpmux::encode_control(message));
  flush_replies();
}

bool Relay::flush_replies() {
  bool sent_any = false;
  ringbus::Channel& ch = bus_.channel(rdpmux::kControlChannel);
  while (!pending_replies_.empty()) {
    const auto& m = pending_replies_.front();
    auto sent = ch.try_send(m.type, m.payload());
    if (!sent || !*sent) break;  // full (or faulted until the host resets it): retry later
    pending_replies_.pop_front();
    sent_any = true;
  }
  return sent_any;
}

bool Relay::flush_catalog() {
  // Replies first: an Opened or a Pong never waits behind megabytes of icons.
  if (!pending_replies_.empty()) return false;
  bool sent_any = false;
  ringbus::Channel& ch = bus_.channel(rdpmux::kControlChannel);
  for (int i = 0; i < kCatalogRecordsPerTurn && !catalog_out_.empty(); ++i) {
    auto sent = ch.try_send(rdpmux::kMsgCatalogFragment, catalog_out_.front());
    if (!sent || !*sent) break;  // full (or faulted until the host resets it): retry later
    catalog_out_.pop_front();
    counters_.catalog_fragments.add();
    sent_any = true;
  }
  return sent_any;
}

void Relay::take_catalog() {
  auto batch = catalog_->take();
  if (!batch || !catalog_live_) return;  // nobody asked for it yet: Hello requests a fresh one
  // The newest catalogue replaces whatever of an older one is unsent: it starts at offset 0,
  // so the host drops the incomplete older one (control_layout.hpp).
  catalog_out_.assign(std::make_move_iterator(batch->records.begin()), std::make_move_iterator(batch->records.end()));
  counters_.catalog_batches.add();
}

void Relay::error_reply(std::uint16_t type, std::uint32_t code, const std::string& text) {
  counters_.protocol_errors.add();
  base::log_warn("bad control message (type {}): {}", type, text);
  reply(rdpmux::make_error_reply(type, code, text));
}

bool Relay::handle_control() {
  ringbus::Channel& ch = bus_.channel(rdpmux::kControlChannel);
  std::vector<std::pair<std::uint16_t, rdpmux::ControlMessage>> batch;
  auto n = ch.rx().read(
      [&](const ringbus::RecordView& r) {
        auto m = rdpmux::decode_control(r.type, r.payload);
        if (!m) {
          error_reply(r.type, m.error().code == Errc::kUnknownType ? rdpmux::kErrUnknownType : rdpmux::kErrMalformed,
                      m.error().message);
          return;
        }
        batch.emplace_back(r.type, *m);
      },
      64);
  if (!n) {
    // The host owns the region and resets a broken ring; until then there is nothing to read.
    return false;
  }
  if (*n) ch.notify_released();
  for (const auto& [type, m] : batch) handle(m, type);
  return *n != 0;
}

void Relay::handle(const rdpmux::ControlMessage& message, std::uint16_t type) {
  using namespace rdpmux;
  if (message_sender(type) == Sender::kGuest) {
    error_reply(type, kErrWrongDirection, std::string(message_name(type)) + " is sent by the guest");
    return;
  }
  if (const auto* h = std::get_if<HelloMsg>(&message)) {
    const std::uint16_t version = choose_version(h->version_min, h->version_max, kProtocolVersion, kProtocolVersion);
    if (version == 0) {
      error_reply(type, kErrVersion, "no common protocol version (host " + std::to_string(h->version_min) + ".." +
                                         std::to_string(h->version_max) + ", relay " +
                                         std::to_string(kProtocolVersion) + ")");
      return;
    }
    hello_done_ = true;
    std::uint32_t features = h->features & kKnownFeatures;
    if (!catalog_) features &= ~kFeatureCatalog;  // vitrine-guest --no-catalog
    stamps_ = (features & kFeatureTimestamps) != 0;
    // A (new) host: whatever was queued for the previous one is stale.
    catalog_live_ = (features & kFeatureCatalog) != 0;
    catalog_out_.clear();
    reply(make_hello_reply(version, features, io_.memory_registered() ? 1 : 0, static_cast<std::uint32_t>(::getpid())));
    // The catalogue follows the HelloReply (replies are always sent before fragments).
    if (catalog_live_) catalog_->request_snapshot();
  } else if (const auto* o = std::get_if<OpenMsg>(&message)) {
    open(*o);
  } else if (const auto* c = std::get_if<CloseMsg>(&message)) {
    if (c->channel == kControlChannel || c->channel >= conns_.size()) {
      error_reply(type, kErrBadChannel, "Close of channel " + std::to_string(c->channel));
      return;
    }
    RelayConnection& conn = *conns_[c->channel];
    // Close of an idle channel: it crossed our Closed on the way; nothing to do.
    if (conn.state == ConnState::kConnecting || conn.state == ConnState::kOpen)
      fail(conn, 0, "closed by the host", false);
    else if (conn.state == ConnState::kClosing)
      conn.send_end = false;  // the host no longer reads: do not wait for room for End
  } else if (const auto* p = std::get_if<PingMsg>(&message)) {
    reply(PongMsg{p->nonce, p->sent_ns});
  } else if (std::get_if<PongMsg>(&message)) {
    // Nothing: the relay sends no pings.
  } else if (const auto* cp = std::get_if<ClockProbeMsg>(&message)) {
    if (!stamps_) {
      error_reply(type, kErrNotNegotiated, "ClockProbe without kFeatureTimestamps agreed in Hello");
      return;
    }
    reply(ClockReplyMsg{cp->nonce, cp->host_ns, base::monotonic_ns(), 0});
  } else if (std::get_if<StatsRequestMsg>(&message)) {
    reply(stats_snapshot());
  } else if (std::get_if<CatalogRequestMsg>(&message)) {
    if (!catalog_live_) {
      error_reply(type, kErrNotNegotiated,
                  catalog_ ? "CatalogRequest without kFeatureCatalog agreed in Hello"
                           : "this relay publishes no catalogue (vitrine-guest --no-catalog)");
      return;
    }
    catalog_->request_snapshot();
  } else if (const auto* e = std::get_if<ErrorReplyMsg>(&message)) {
    base::log_warn("the host rejected a {} message: {}", message_name(e->offending_type), text_of(*e));
  }
}

void Relay::open(const rdpmux::OpenMsg& m) {
  using namespace rdpmux;
  if (m.channel >= conns_.size()) {
    error_reply(kMsgOpen, kErrBadChannel, "Open of channel " + std::to_string(m.channel) + " (bus has " +
                                               std::to_string(conns_.size()) + ")");
    return;
  }
  RelayConnection& c = *conns_[m.channel];
  auto refuse = [&](int err, const std::string& text) {
    counters_.open_failures.add();
    reply(make_open_failed(m.request_id, m.channel, err, text));
  };
  if (!hello_done_) return refuse(EPROTO, "Open before Hello");
  if (c.state != ConnState::kIdle) {
    error_reply(kMsgOpen, kErrBadChannel, "Open of channel " + std::to_string(m.channel) + " that is in use");
    return;
  }
  // Whatever h2g N still holds belongs to the previous connection (the host writes for this
  // one only after Opened).
  discard_h2g(c);
  c.reset_for_open();
  c.request_id = m.request_id;
  c.framed = (m.flags & kOpenFramed) != 0;
  // A claim the relay waits for must fit the g2h ring once it is empty, wherever its tail stands
  // (Ring::max_always_fitting_payload: half the ring): a larger one can wait forever.
  const std::uint64_t max_payload = c.channel.tx().max_always_fitting_payload();
  if (c.framed) {
    const std::uint64_t want = std::uint64_t{options_.framed_greedy} + kMaxPduLength;
    c.claim_size = static_cast<std::uint32_t>(std::min<std::uint64_t>(want, max_payload));
    if (c.claim_size < kMaxPduLength) {
      c.state = ConnState::kIdle;
      return refuse(EMSGSIZE, "channel ring too small for framed mode (records of " + std::to_string(max_payload) +
                                  " bytes always fit it, a PDU may need " + std::to_string(kMaxPduLength) + ")");
    }
    c.greedy = c.claim_size - kMaxPduLength;
    if (c.greedy < kMinGreedy) c.greedy = 0;
  } else {
    c.claim_size = static_cast<std::uint32_t>(std::min<std::uint64_t>(options_.raw_claim, max_payload));
  }
  auto sock = prepare_socket(m);
  if (!sock) {
    c.state = ConnState::kIdle;
    return refuse(sock.error().sys_errno ? sock.error().sys_errno : EINVAL, sock.error().message);
  }
  c.socket = std::move(*sock);
  io_.connect(c.socket.fd.get(), reinterpret_cast<const sockaddr*>(&c.socket.address), c.socket.length,
              token(kOpConnect, m.channel, c.generation));
  ++c.inflight;
}

}  // namespace vitrine::relay
