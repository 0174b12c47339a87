// Relay: the guest side of the relay protocol (rdpmux/proto control_layout.hpp). One thread,
// one event loop over an IoEngine (io_uring on Linux):
//
//   channel 0   Hello / Open / Close / Ping / StatsRequest / CatalogRequest / ClockProbe ->
//               replies; the application catalogue (CatalogFeed, its own thread) as
//               CatalogFragment records, sent only when the ring has room and no reply waits
//   channel N   socket --recv straight into a claimed g2h span--> commit --> host
//               host --h2g records--> sendmsg straight from ring memory --> socket
//
// Zero user-space copies of payload: the receive target is ring memory (a claimed span), and
// sends take iovecs that point into committed records. Back-pressure: when g2h N is full no
// receive is queued for that socket, so TCP's window closes; nothing is dropped.
//
// Framed connections (Open flag kOpenFramed) keep whole RDP PDUs per record with no side
// buffer: a receive at a PDU boundary takes up to `framed_greedy` bytes into a claim that has
// room for one more maximal PDU after them; if the bytes end inside a PDU, the following
// receives ask for exactly the rest of that PDU (PduFramer::wanted()) into the same claim, and
// the record is committed when the stream is back at a boundary. See docs/relay.md.
//
// Timestamps (kFeatureTimestamps, when the host asks): each data record committed on g2h is
// followed by a Stamp record with the loop's clock readings at its first receive completion and
// at its commit, and ClockProbes are answered with this clock, so that the host can place the
// guest's part of a frame's latency on its own time line (control_layout.hpp, "Timestamps").
//
// Lifecycle per channel and the order of End / Closed: control_layout.hpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "vitrine/rdpmux/bus_doorbells.hpp"
#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/relay/catalog_feed.hpp"
#include "vitrine/relay/io_engine.hpp"
#include "vitrine/ringbus/bus.hpp"
#include "vitrine/ringbus/ring.hpp"

namespace vitrine::relay {

struct RelayOptions {
  std::uint32_t raw_claim = 128 * 1024;      // bytes per receive, raw connections
  std::uint32_t framed_greedy = 64 * 1024;   // bytes per receive at a PDU boundary
  std::chrono::nanoseconds spin{std::chrono::microseconds(20)};  // busy re-check before sleeping
  std::chrono::nanoseconds poll_max_sleep{std::chrono::microseconds(500)};  // no doorbells
  bool register_memory = true;               // bus as io_uring fixed buffer, where allowed
};

// Single writer (the loop thread); any thread may read (relaxed).
struct RelayCounters {
  ringbus::Counter connections_total;
  ringbus::Counter open_failures;
  ringbus::Counter bytes_to_host;           // payload committed on g2h rings
  ringbus::Counter bytes_from_host;         // payload sent from h2g records
  ringbus::Counter records_to_host;
  ringbus::Counter records_from_host;
  ringbus::Counter backpressure_events;     // a g2h ring was full: receiving paused
  ringbus::Counter bytes_copied;            // payload bytes copied in user space
  ringbus::Counter bytes_received_elsewhere;// payload received outside ring memory
  ringbus::Counter framing_errors;
  ringbus::Counter protocol_errors;         // malformed / unexpected host messages
  ringbus::Counter recvs;                   // receive operations completed with data
  ringbus::Counter sends;
  ringbus::Counter catalog_batches;         // whole catalogues queued for the host
  ringbus::Counter catalog_fragments;       // CatalogFragment records sent
  ringbus::Counter stamps;                  // Stamp records committed (kFeatureTimestamps)
  ringbus::Counter stamps_skipped;          // no room for a Stamp after its data record
};

struct RelayConnection;  // relay_connection.hpp (private)

class Relay {
 public:
  // `bus` is the guest side; `doorbells` are applied to it. Both must outlive the Relay.
  static rdpmux::Result<std::unique_ptr<Relay>> create(ringbus::Bus& bus, const rdpmux::BusDoorbells& doorbells,
                                                       IoEngine& io, RelayOptions options = {});
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Publishes the application catalogue through `feed` (before run(); the Relay owns it).
  // Without one, Hello's kFeatureCatalog is declined.
  void set_catalog(std::unique_ptr<CatalogFeed> feed) { catalog_ = std::move(feed); }

  // Runs until `stop` becomes true (checked at least every 100 ms) or `stop_fd` (e.g. a
  // signalfd, -1 for none) becomes readable. Then closes every connection.
  rdpmux::Result<void> run(const std::atomic<bool>& stop, int stop_fd = -1);
  // One loop iteration; sleeps at most `max_wait` when nothing is ready.
  rdpmux::Result<void> run_once(std::chrono::nanoseconds max_wait);
  // Cancels and closes every connection (waits for the engine to give buffers back).
  void shutdown();

  const RelayCounters& counters() const { return counters_; }
  rdpmux::StatsReplyMsg stats_snapshot() const;
  std::uint32_t open_connections() const;
  bool fixed_buffers() const { return io_.memory_registered(); }

 private:
  Relay(ringbus::Bus& bus, const rdpmux::BusDoorbells& doorbells, IoEngine& io, RelayOptions options);

  // control channel
  bool handle_control();
  void handle(const rdpmux::ControlMessage& message, std::uint16_t type);
  void reply(const rdpmux::ControlMessage& message);
  bool flush_replies();
  bool flush_catalog();
  void take_catalog();
  void error_reply(std::uint16_t type, std::uint32_t code, const std::string& text);
  void open(const rdpmux::OpenMsg& m);

  // connections
  bool pump(RelayConnection& c);
  bool pump_rx(RelayConnection& c);
  bool pump_tx(RelayConnection& c);
  bool discard_h2g(RelayConnection& c);
  void on_completion(const IoCompletion& cq);
  void on_connect(RelayConnection& c, int result);
  void on_recv(RelayConnection& c, int result);
  void on_send(RelayConnection& c, int result);
  void fail(RelayConnection& c, int error, std::string text, bool send_end);
  bool finish_close(RelayConnection& c);
  void commit_to_host(RelayConnection& c, std::uint32_t used, std::uint16_t flags);

  // sleeping
  bool arm_and_recheck();
  void disarm();

  ringbus::Bus& bus_;
  const rdpmux::BusDoorbells& doorbells_;
  IoEngine& io_;
  RelayOptions options_;
  std::vector<std::unique_ptr<RelayConnection>> conns_;  // index = channel id (0 unused)
  std::deque<rdpmux::EncodedMessage> pending_replies_;   // control ring was full
  std::unique_ptr<CatalogFeed> catalog_;
  bool catalog_live_ = false;     // the host's Hello and ours agreed on kFeatureCatalog
  bool catalog_polled_ = false;   // a poll on catalog_->ready_fd() is queued
  std::deque<std::vector<std::byte>> catalog_out_;  // fragments of the newest catalogue, unsent
  bool hello_done_ = false;
  bool stamps_ = false;           // the host's Hello and ours agreed on kFeatureTimestamps
  bool doorbell_polled_ = false;
  bool stop_polled_ = false;
  bool stop_seen_ = false;
  std::chrono::steady_clock::time_point idle_since_{};
  std::chrono::nanoseconds poll_step_{1000};
  std::vector<ringbus::Ring*> armed_consumer_;  // rings whose flags arm_and_recheck() raised
  std::vector<ringbus::Ring*> armed_producer_;
  std::vector<IoCompletion> completions_;
  RelayCounters counters_;
};

}  // namespace vitrine::relay
