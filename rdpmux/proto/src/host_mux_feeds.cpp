// HostMux, the part the guest feeds on its own, outside any control call: catalogue fragments,
// clock replies (and the periodic probe that asks for them), and the stamps that follow data
// records. Each decodes guest bytes: bad input is counted and logged at a bounded rate, never
// followed. (The control calls, the channel table and the drain loop: host_mux.cpp.)
#include <algorithm>
#include <cstring>

#include "host_mux_detail.hpp"
#include "vitrine/rdpmux/host_mux.hpp"
#include "vitrine/ringbus/log.hpp"

namespace vitrine::rdpmux {

using namespace detail;

void HostMux::handle_fragment(const CatalogFragmentMsg& fragment) {
  const CatalogFragmentHeader& h = fragment.header;  // validated by decode_control
  if (!ready() || (hello_reply_.features & kFeatureCatalog) == 0) {
    protocol_error(kMsgCatalogFragment, kErrNotNegotiated, "CatalogFragment without kFeatureCatalog agreed in Hello");
    return;
  }
  CatalogStream& st = catalog_stream_;
  if (h.offset == 0) {
    if (st.active) {
      const auto n = counters_.catalogs_abandoned.fetch_add(1, std::memory_order_relaxed);
      if (worth_logging(n))
        ringbus::log(ringbus::LogLevel::kInfo, "rdpmux: catalogue generation " + std::to_string(st.generation) +
                                                   " abandoned at " + std::to_string(st.received) + " of " +
                                                   std::to_string(st.total) + " bytes for generation " +
                                                   std::to_string(h.generation) + so_far(n));
    }
    st = CatalogStream{true, h.generation, h.total_size, 0};
  } else if (!st.active || h.generation != st.generation || h.total_size != st.total || h.offset != st.received) {
    const std::string expected = st.active ? "generation " + std::to_string(st.generation) + " at offset " +
                                                 std::to_string(st.received) + " of " + std::to_string(st.total)
                                           : "a fragment at offset 0";
    st.active = false;
    protocol_error(kMsgCatalogFragment, kErrMalformed,
                   "CatalogFragment generation " + std::to_string(h.generation) + " offset " +
                       std::to_string(h.offset) + " total " + std::to_string(h.total_size) + " out of order (expected " +
                       expected + "); the incomplete catalogue is dropped");
    return;
  }
  // offset + length <= total_size (validate), offset == received: no overflow, no overrun.
  st.received += h.length;
  counters_.catalog_fragments.fetch_add(1, std::memory_order_relaxed);
  if (st.received == st.total) {
    st.active = false;
    counters_.catalogs_complete.fetch_add(1, std::memory_order_relaxed);
  }
  options_.on_catalog_fragment(fragment.record);
}

bool HostMux::timestamps_negotiated() const {
  return ready() && (accepted_features_.load(std::memory_order_relaxed) & kFeatureTimestamps) != 0;
}

std::optional<ClockEstimate> HostMux::clock_estimate() const {
  std::lock_guard lock(clock_mutex_);
  return estimate_;
}

void HostMux::handle_clock_reply(const ClockReplyMsg& reply) {
  if (!ready() || (hello_reply_.features & kFeatureTimestamps) == 0) {
    protocol_error(kMsgClockReply, kErrNotNegotiated, "ClockReply without kFeatureTimestamps agreed in Hello");
    return;
  }
  const std::uint64_t now = monotonic_ns();
  // Only the reply to the probe in flight counts, and with OUR send time: a guest cannot make
  // the host believe in a round trip shorter than the one it measured itself.
  if (!probe_ || reply.nonce != probe_->nonce || reply.host_ns != probe_->sent_ns) return;
  const ClockSample sample{probe_->sent_ns, reply.guest_ns, now};
  probe_.reset();
  if (!clock_.add(sample)) {
    protocol_error(kMsgClockReply, kErrMalformed, "ClockReply with guest time " + std::to_string(reply.guest_ns));
    return;
  }
  counters_.clock_samples.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(clock_mutex_);
  estimate_ = clock_.estimate();
}

void HostMux::maybe_probe_clock() {
  if (!timestamps_negotiated()) return;
  const std::uint64_t now = monotonic_ns();
  const auto interval = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.clock_probe_interval).count());
  // A probe whose reply never came (lost with a restarting relay) is given up after a second.
  if (probe_ && now - probe_->sent_ns < 1'000'000'000ull) return;
  if (last_probe_ns_ != 0 && now - last_probe_ns_ < interval) return;
  probe_ = ClockProbe{++next_nonce_ ^ (now << 20), now};
  last_probe_ns_ = now;
  // Never waits: a full control ring skips this probe (the next poll() tries again).
  if (auto sent = try_send(ClockProbeMsg{probe_->nonce, probe_->sent_ns}); !sent || !*sent) probe_.reset();
}

void HostMux::deliver_stamp(std::uint32_t channel, std::span<const std::byte> payload, std::uint64_t data_bytes,
                            std::uint64_t read_ns) {
  auto st = decode_stamp(payload);
  if (!st || read_ns == 0) {
    const auto n = counters_.bad_stamps.fetch_add(1, std::memory_order_relaxed);
    // A hostile guest could send one per record.
    if (worth_logging(n))
      ringbus::log(ringbus::LogLevel::kWarn, "rdpmux: channel " + std::to_string(channel) + ": " +
                                                 (st ? std::string("Stamp record not right after a data record")
                                                     : st.error().message) + " (ignored)" + so_far(n));
    return;
  }
  std::optional<ClockEstimate> e = clock_estimate();
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
