// Private to guest/relay: what relay.cpp (connections, sleeping) and relay_control.cpp
// (channel 0) share.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "vitrine/rdpmux/error.hpp"
#include "vitrine/ringbus/log.hpp"

namespace vitrine::relay {

using Clock = std::chrono::steady_clock;
using rdpmux::Errc;

// IoEngine completion tokens: op in bits 0-7, channel in 8-31, connection generation in 32-63.
enum Op : std::uint8_t { kOpConnect = 1, kOpRecv, kOpSend, kOpCancel, kOpDoorbell, kOpStop, kOpCatalog };

inline std::uint64_t token(Op op, std::uint32_t channel, std::uint32_t generation) {
  return std::uint64_t{generation} << 32 | std::uint64_t{channel} << 8 | op;
}

// CLOCK_MONOTONIC in ns: the relay's clock for Stamp records and ClockReply (the host's
// HostMux relates it to its own).
inline std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

inline void log_warn(const std::string& s) { ringbus::log(ringbus::LogLevel::kWarn, "vitrine-guest: " + s); }

// CatalogFragment records sent per loop iteration: at most ~1 MiB of copying before the loop
// looks at the data channels again.
inline constexpr int kCatalogRecordsPerTurn = 16;

// Largest claim a framed connection uses: the greedy receive plus room for one more maximal
// PDU that may start at its last byte.
inline constexpr std::uint32_t kMinGreedy = 4096;

}  // namespace vitrine::relay
