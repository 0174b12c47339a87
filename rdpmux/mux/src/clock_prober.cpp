#include "clock_prober.hpp"

#include <string>

#include "control_link.hpp"
#include "mux_detail.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/base/rate_limiter.hpp"

namespace vitrine::rdpmux {

using base::Clock;
using base::monotonic_ns;

ClockProber::ClockProber(ControlLink& link, const HostMuxOptions& options, HostMuxCounters& counters)
    : link_(link), options_(options), counters_(counters) {}

void ClockProber::restart() {
  clock_.clear();
  probe_.reset();
}

ClockProber::Probe ClockProber::next_probe(std::uint64_t now) {
  last_probe_ns_ = now;
  return Probe{++next_nonce_ ^ (now << 20), now};
}

Result<std::uint64_t> ClockProber::send_probe(Clock::time_point deadline) {
  probe_ = next_probe(monotonic_ns());
  const Probe p = *probe_;
  if (auto r = link_.send(ClockProbeMsg{p.nonce, p.sent_ns}, deadline); !r) return std::unexpected(r.error());
  return p.nonce;
}

void ClockProber::maybe_probe() {
  const std::uint64_t now = monotonic_ns();
  const auto interval = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.clock_probe_interval).count());
  // A probe whose reply never came (lost with a restarting relay) is given up after a second.
  if (probe_ && now - probe_->sent_ns < 1'000'000'000ull) return;
  if (last_probe_ns_ != 0 && now - last_probe_ns_ < interval) return;
  probe_ = next_probe(now);
  // Never waits: a full control ring skips this probe (the next poll() tries again).
  if (auto sent = link_.try_send(ClockProbeMsg{probe_->nonce, probe_->sent_ns}); !sent || !*sent) probe_.reset();
}

void ClockProber::on_reply(const ClockReplyMsg& reply) {
  const std::uint64_t now = monotonic_ns();
  if (!probe_ || reply.nonce != probe_->nonce || reply.host_ns != probe_->sent_ns) return;
  const ClockSample sample{probe_->sent_ns, reply.guest_ns, now};
  probe_.reset();
  if (!clock_.add(sample)) {
    link_.protocol_error(kMsgClockReply, kErrMalformed, "ClockReply with guest time " + std::to_string(reply.guest_ns));
    return;
  }
  counters_.clock_samples.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(estimate_mutex_);
  estimate_ = clock_.estimate();
}

std::optional<ClockEstimate> ClockProber::estimate() const {
  std::lock_guard lock(estimate_mutex_);
  return estimate_;
}

void ClockProber::deliver_stamp(std::uint32_t channel, std::span<const std::byte> payload, std::uint64_t data_bytes,
                                std::uint64_t read_ns) {
  auto st = decode_stamp(payload);
  if (!st || read_ns == 0) {
    counters_.bad_stamps.fetch_add(1, std::memory_order_relaxed);
    // A hostile guest could send one per record. Connection readers call this without the
    // control lock, so not the link's limiter: one per reader thread.
    thread_local base::RateLimiter limit(detail::kGuestLogPerSecond, detail::kGuestLogBurst);
    if (auto a = limit.admit())
      base::log_warn("rdpmux: channel {}: {} (ignored){}", channel,
                     st ? std::string_view("Stamp record not right after a data record")
                        : std::string_view(st.error().message),
                     a.suffix());
    return;
  }
  std::optional<ClockEstimate> e = estimate();
  if (!e) {
    counters_.stamps_unsynced.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  GuestStamp g;
  g.channel = channel;
  g.bytes = data_bytes;
  g.receive_ns = e->to_host(st->receive_ns);
  g.commit_ns = e->to_host(st->commit_ns);
  g.read_ns = read_ns;
  g.guest_receive_to_commit_ns = st->commit_ns - st->receive_ns;
  g.clock_uncertainty_ns = e->uncertainty_ns;
  counters_.stamps.fetch_add(1, std::memory_order_relaxed);
  options_.on_stamp(g);
}

}  // namespace vitrine::rdpmux
