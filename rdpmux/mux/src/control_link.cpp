#include "control_link.hpp"

#include "vitrine/base/log.hpp"

namespace vitrine::rdpmux {

using base::Clock;

ControlLink::ControlLink(ringbus::Bus& bus, const BusDoorbells& doorbells, const HostMuxOptions& options,
                         HostMuxCounters& counters)
    : bus_(bus), doorbells_(doorbells), options_(options), counters_(counters) {}

Result<void> ControlLink::send(const ControlMessage& message, Clock::time_point deadline) {
  const EncodedMessage m = encode_control(message);
  ringbus::Channel& ch = bus_.channel(kControlChannel);
  for (;;) {
    auto sent = ch.try_send(m.type, m.payload());
    if (!sent) return std::unexpected(from_bus(sent.error()));
    if (*sent) return {};
    const auto now = Clock::now();
    if (now >= deadline)
      return fail(Errc::kTimeout, "control channel full: the guest relay does not read it");
    auto w = ch.wait_writable(m.size, ringbus::WaitPolicy::adaptive(), deadline - now);
    if (!w) return std::unexpected(from_bus(w.error()));
  }
}

Result<bool> ControlLink::try_send(const ControlMessage& message) {
  const EncodedMessage m = encode_control(message);
  auto sent = bus_.channel(kControlChannel).try_send(m.type, m.payload());
  if (!sent) return std::unexpected(from_bus(sent.error()));
  return *sent;
}

void ControlLink::reply(const ControlMessage& message) {
  // Never a wait: a guest that sends Pings and does not read the answers used to hold the
  // caller (the UI thread, in poll()) for 100 ms per Ping.
  if (auto sent = try_send(message); sent && *sent) return;
  counters_.replies_dropped.fetch_add(1, std::memory_order_relaxed);
  if (auto a = admit_guest_line())
    base::log_warn("rdpmux: the guest relay does not read the control channel: {} dropped{}",
                   message_name(message_type_of(message)), a.suffix());
}

void ControlLink::protocol_error(std::uint16_t type, std::uint32_t code, const std::string& text) {
  counters_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  if (auto a = admit_guest_line())
    base::log_warn("rdpmux: bad message from the guest (type {}): {}{}", type, text, a.suffix());
  reply(make_error_reply(type, code, text));
}

Result<void> ControlLink::wait_readable(std::chrono::nanoseconds timeout) {
  ringbus::Channel& ch = bus_.channel(kControlChannel);
  // With one host doorbell shared by every channel (a VM has one per direction), sleeping on
  // it would race the connections' threads for each wake-up: whoever drains the eventfd
  // takes it from the others (a ping took its whole 500 ms timeout so, and the bridge it
  // robbed would stall for its poll interval). Control calls are rare: they poll the ring in
  // sub-millisecond steps instead and leave the eventfd to the connections.
  auto w = wake_fd() < 0 && !doorbells_.polling()
               ? ch.rx().wait_readable(shared_bell_wait_, ringbus::WaitPolicy::adaptive(), timeout)
               : ch.wait_readable(ringbus::WaitPolicy::adaptive(), timeout);
  if (!w) return std::unexpected(from_bus(w.error()));
  return {};
}

int ControlLink::wake_fd() const {
  // Only a doorbell of its own: a shared one is also drained by connection threads' waits, and
  // draining it here would steal their wake-ups.
  if (doorbells_.polling() || doorbells_.host_count() != bus_.channel_count()) return -1;
  return doorbells_.host(kControlChannel)->fd();
}

}  // namespace vitrine::rdpmux
