// Errors of hv/ (vitrine-vmm, its backends, the own KVM VMM). hv has its own codes (its
// contract with cli/ and the tests); a bus error that crosses into hv becomes kBus with the bus
// message kept (from_bus), the way rdpmux converts it.
#pragma once

#include <cstdint>
#include <string_view>

#include "vitrine/base/error.hpp"
#include "vitrine/ringbus/error.hpp"

namespace vitrine::hv {

enum class Errc : std::uint8_t {
  kInvalidArgument,  // configuration or argument rejected; the message names the value
  kSystem,           // a system call failed (errno in sys_errno)
  kTimeout,          // a bounded wait ended without the condition
  kPeerClosed,       // vitrine-vmm, a VM backend's child or a client closed its end
  kBus,              // the bus reported an error (sys_errno and message kept)
};

std::string_view errc_name(Errc code);

using Error = base::Error<Errc>;
template <typename T>
using Result = base::Result<T, Errc>;
using base::fail;
using base::to_string;

// kTimeout, kPeerClosed and kSystem keep their meaning; every other bus code is kBus.
Error from_bus(const ringbus::Error& e);

// Shorthands for the two most common failures.
inline Error invalid(std::string message) { return Error{Errc::kInvalidArgument, 0, std::move(message)}; }

}  // namespace vitrine::hv
