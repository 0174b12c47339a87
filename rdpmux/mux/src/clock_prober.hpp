// ClockProber: follows the guest's clock with ClockProbe / ClockReply round trips on the
// control channel (clock_sync.hpp holds the estimator) and puts the guest's stamps on the host's
// clock with the estimate (kFeatureTimestamps, control_layout.hpp "Timestamps").
//
// Only the reply to the one probe in flight counts, with the host's own send time: a guest
// cannot make the host believe in a round trip shorter than the one it measured itself.
//
// Threads: probes and replies with the HostMux control lock held; estimate() and
// deliver_stamp() from any thread (connection readers), under a lock of its own that no
// control call holds while it waits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>

#include "vitrine/base/clock.hpp"
#include "vitrine/rdpmux/clock_sync.hpp"
#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/error.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"

namespace vitrine::rdpmux {

class ControlLink;

class ClockProber {
 public:
  // `options` supplies clock_probe_interval and on_stamp; it outlives the prober.
  ClockProber(ControlLink& link, const HostMuxOptions& options, HostMuxCounters& counters);
  ClockProber(const ClockProber&) = delete;
  ClockProber& operator=(const ClockProber&) = delete;

  // A new HelloReply (a restarted guest may have a new clock): samples and the probe in flight
  // are dropped. The published estimate stays until a new one replaces it.
  void restart();
  // sync_clock(): sends a probe, waiting for room until `deadline`. Value: its nonce, for
  // answered().
  Result<std::uint64_t> send_probe(base::Clock::time_point deadline);
  // Whether the probe `nonce` is no longer in flight (its reply arrived, or another replaced it).
  bool answered(std::uint64_t nonce) const { return !probe_ || probe_->nonce != nonce; }
  // poll(): sends a probe without waiting when one is due (every clock_probe_interval; a probe
  // unanswered for a second is given up). A full control ring skips it.
  void maybe_probe();
  // A ClockReply the caller found negotiated. A reply to no probe in flight is ignored; an
  // unusable one is a protocol error.
  void on_reply(const ClockReplyMsg& reply);

  // The current estimate (any thread); nullopt before the first usable ClockReply.
  std::optional<ClockEstimate> estimate() const;
  // One kRecordStamp payload from a connection's reader (any thread, no control lock): decoded,
  // converted with the estimate and handed to on_stamp; counted when bad or unsynced.
  void deliver_stamp(std::uint32_t channel, std::span<const std::byte> payload, std::uint64_t data_bytes,
                     std::uint64_t read_ns);

 private:
  struct Probe {
    std::uint64_t nonce = 0;
    std::uint64_t sent_ns = 0;
  };
  Probe next_probe(std::uint64_t now);

  ControlLink& link_;
  const HostMuxOptions& options_;
  HostMuxCounters& counters_;
  // Under the control lock.
  ClockSync clock_;
  std::optional<Probe> probe_;  // the one probe in flight
  std::uint64_t last_probe_ns_ = 0;
  std::uint64_t next_nonce_ = 0;
  // The published estimate: readers are connection threads that must not wait for a control call.
  mutable std::mutex estimate_mutex_;
  std::optional<ClockEstimate> estimate_;
};

}  // namespace vitrine::rdpmux
