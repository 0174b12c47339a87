// Errors of the host side of rdpmux. They cross into cli/ (and the compositor adapter) as
// std::expected<T, Error>: every failure caused by the guest or its RDP server is one of these,
// never an abort.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "vitrine/base/error.hpp"

namespace vitrine::rdpmux::host {

enum class Errc : std::uint8_t {
  kProtocol,            // the server sent something malformed (window order, PDU, stream)
  kLimit,               // the server asked for more than the configured limits allow
  kCertificateChanged,  // TLS: the guest's certificate differs from the one pinned for this VM
  kConnect,             // FreeRDP could not connect (negotiation, security, transport)
  kClosed,              // the connection ended (peer closed, or truncated stream)
  kBus,                 // the bus channel faulted (hostile or broken guest side)
  kSystem,              // a system call failed
  kConfig,              // configuration rejected
  kExec,                // the server refused to start a RemoteApp program (RAIL Execute Result)
  kTimeout,             // no answer within the caller's timeout
};

using Error = base::Error<Errc>;
template <typename T>
using Result = base::Result<T, Errc>;
using base::to_string;

std::string_view errc_name(Errc code);

using base::fail;

}  // namespace vitrine::rdpmux::host
