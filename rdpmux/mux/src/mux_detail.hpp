// Helpers shared by the host runtime's source files (HostMux and its parts, Connection). Private
// to rdpmux/mux.
#pragma once

#include <cstdint>

#include "vitrine/base/clock.hpp"

namespace vitrine::rdpmux::detail {

// Log lines the guest can trigger at will (a bad message, a reply it does not read, a bad
// Stamp) go through a base::RateLimiter at this rate: a burst of 4, then one a second, and the
// next line let through says how many were suppressed. A flood costs a counter increment.
inline constexpr std::uint32_t kGuestLogPerSecond = 1;
inline constexpr std::uint32_t kGuestLogBurst = 4;

}  // namespace vitrine::rdpmux::detail
