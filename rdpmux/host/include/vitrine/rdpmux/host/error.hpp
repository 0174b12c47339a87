// Errors of the host side of rdpmux. They cross into cli/ (and the compositor adapter) as
// std::expected<T, Error>: every failure caused by the guest or its RDP server is one of these,
// never an abort.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

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

// Still rdpmux/host's own struct, not yet base::Error<Errc> (issue 16): base's has a sys_errno
// between code and message, and connection_bridge.cpp, which is being reworked, writes
// Error{code, message}. Once it writes Error{code, 0, message} (as the other files will), this
// becomes the using-declarations of vitrine/base/error.hpp.
struct Error {
  Errc code;
  std::string message;  // says what was wrong, with the offending values
};

std::string_view errc_name(Errc code);
std::string to_string(const Error& error);

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

}  // namespace vitrine::rdpmux::host
