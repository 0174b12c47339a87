// Errors of the bus. Full and empty are not errors (they are ordinary results of the
// ring operations); everything here is either a caller mistake reported instead of
// asserted (a claim larger than the ring) or a fault of the peer or the system.
#pragma once

#include <cstdint>
#include <string_view>

#include "vitrine/base/error.hpp"

namespace vitrine::ringbus {

enum class Errc : std::uint8_t {
  kClaimTooLarge,     // record bigger than the ring can ever hold
  kChannelFault,      // the peer broke the ring protocol; the ring is in the error state
  kBadHeader,         // region header: magic, version, size, checksum or table invalid
  kSystem,            // a system call failed (errno in Error::sys_errno)
  kInvalidArgument,   // configuration rejected (sizes, counts)
  kTimeout,           // a bounded wait ended without the condition
  kPeerClosed,        // the other end of a handoff socket went away
};

// The fields (code, sys_errno, message) and Error::sys come from base::Error.
using Error = base::Error<Errc>;

std::string_view errc_name(Errc code);
using base::fail;
using base::to_string;

template <typename T>
using Result = base::Result<T, Errc>;

}  // namespace vitrine::ringbus
