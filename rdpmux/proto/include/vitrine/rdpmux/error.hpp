// Errors of the rdpmux protocol layer (control protocol, framer, host connections): rdpmux's
// codes on base::Error. They cross room boundaries as Result<T>; ringbus errors convert into
// them with from_bus (kBus, the ringbus message kept).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "vitrine/base/error.hpp"
#include "vitrine/ringbus/error.hpp"

namespace vitrine::rdpmux {

enum class Errc : std::uint8_t {
  kMalformed,        // a control message or data record that fails validation (sizes, fields)
  kUnknownType,      // a control message type this side does not know
  kVersionMismatch,  // hello: no common protocol version
  kOpenFailed,       // the guest could not reach the target (sys_errno = the guest's errno)
  kNoFreeChannel,    // every connection channel is in use
  kFraming,          // the RDP byte stream broke PDU framing (offset in the message)
  kPeerClosed,       // the other side closed the connection or left the bus
  kTimeout,          // a bounded wait ended without the condition
  kBus,              // the bus reported an error (ringbus message kept)
  kSystem,           // a system call failed (errno in sys_errno)
  kInvalidArgument,  // the caller passed something unusable (path too long, port 0, ...)
};

using Error = base::Error<Errc>;
template <typename T>
using Result = base::Result<T, Errc>;
using base::fail;
using base::to_string;

// A bus error as rdpmux's: kTimeout, kPeerClosed and kSystem keep their meaning, everything else
// is kBus; the message keeps the bus's ("bus: <ringbus to_string>"), sys_errno is carried over.
Error from_bus(const ringbus::Error& e);

std::string_view errc_name(Errc code);

}  // namespace vitrine::rdpmux
