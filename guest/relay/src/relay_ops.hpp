// Private to guest/relay: what relay.cpp (connections, sleeping) and relay_control.cpp
// (channel 0) share.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "vitrine/rdpmux/error.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"

namespace vitrine::relay {

using Clock = std::chrono::steady_clock;
using rdpmux::Errc;

// IoEngine completion tokens: op in bits 0-7, channel in 8-31, connection generation in 32-63.
enum Op : std::uint8_t { kOpConnect = 1, kOpRecv, kOpSend, kOpCancel, kOpDoorbell, kOpStop, kOpCatalog };

inline std::uint64_t token(Op op, std::uint32_t channel, std::uint32_t generation) {
  return std::uint64_t{generation} << 32 | std::uint64_t{channel} << 8 | op;
}

// The relay's clock for Stamp records and ClockReply is base::monotonic_ns() (CLOCK_MONOTONIC;
// the host's HostMux relates it to its own). Its log is base's, prefixed "vitrine-guest".

// CatalogFragment records sent per loop iteration: at most ~1 MiB of copying before the loop
// looks at the data channels again.
inline constexpr int kCatalogRecordsPerTurn = 16;

// Largest claim a framed connection uses: the greedy receive plus room for one more maximal
// PDU that may start at its last byte.
inline constexpr std::uint32_t kMinGreedy = 4096;

}  // namespace vitrine::relay
