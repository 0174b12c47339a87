#include "vitrine/ringbus/channel.hpp"

#include <cstring>
#include <string>

namespace vitrine::ringbus {

Channel::Channel(std::uint32_t id, Side side, RingControl* h2g, std::uint32_t h2g_log2,
                 RingControl* g2h, std::uint32_t g2h_log2)
    : id_(id),
      side_(side),
      h2g_(h2g, h2g_log2, side == Side::kHost, "ch" + std::to_string(id) + ".h2g"),
      g2h_(g2h, g2h_log2, side == Side::kHost, "ch" + std::to_string(id) + ".g2h") {}

Doorbell& Channel::waiter() { return wake_me_ ? *wake_me_ : polling_; }

Result<bool> Channel::wait_readable(WaitPolicy policy, std::chrono::nanoseconds timeout) {
  return rx().wait_readable(waiter(), policy, timeout);
}

Result<bool> Channel::wait_writable(std::uint32_t max_payload, WaitPolicy policy,
                                    std::chrono::nanoseconds timeout) {
  return tx().wait_writable(max_payload, waiter(), policy, timeout);
}

Result<bool> Channel::try_send(std::uint16_t type, std::span<const std::byte> payload,
                               std::uint16_t flags) {
  if (payload.size() > tx().max_payload())
    return std::unexpected(Error{Errc::kClaimTooLarge, 0,
                                 tx().name() + ": " + std::to_string(payload.size()) + " bytes never fit"});
  auto claim = tx().try_claim(static_cast<std::uint32_t>(payload.size()));
  if (!claim) return std::unexpected(claim.error());
  if (!*claim) return false;
  if (!payload.empty()) std::memcpy(claim->data, payload.data(), payload.size());
  tx().commit(static_cast<std::uint32_t>(payload.size()), type, flags);
  notify_sent();
  return true;
}

}  // namespace vitrine::ringbus
