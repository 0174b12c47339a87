// Errors of the rdpmux protocol layer (control protocol, framer, host connections). They cross
// room boundaries as Result<T> = std::expected<T, Error>, like ringbus errors, which convert
// into kBus with the ringbus message kept.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

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

// Still rdpmux's own struct, not yet base::Error<Errc> (issue 16): rdpmux/mux/src/connection.cpp,
// which is being reworked, spells Error::from_bus(...), and a static member cannot be added to
// base's template. Once it calls the free from_bus() below, this struct, sys(), to_string(),
// Result and fail() become the using-declarations of vitrine/base/error.hpp (same fields, same
// field order, so no other call site changes).
struct Error {
  Errc code;
  int sys_errno = 0;
  std::string message;  // what was wrong, with the offending values

  static Error sys(std::string what, int err);
  // The free from_bus(); kept for connection.cpp only.
  static Error from_bus(const ringbus::Error& e);
};

// A bus error as rdpmux's: kTimeout, kPeerClosed and kSystem keep their meaning, everything else
// is kBus; the message keeps the bus's ("bus: <ringbus to_string>"), sys_errno is carried over.
Error from_bus(const ringbus::Error& e);

std::string_view errc_name(Errc code);
std::string to_string(const Error& error);

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc code, std::string message, int sys_errno = 0) {
  return std::unexpected(Error{code, sys_errno, std::move(message)});
}

}  // namespace vitrine::rdpmux
