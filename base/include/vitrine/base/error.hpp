// The error boilerplate of every room, once. A room keeps its own error codes (its contract) and
// its `errc_name`; everything else comes from here:
//
//   namespace vitrine::myroom {
//   enum class Errc : std::uint8_t { kSystem, kMalformed, ... };
//   std::string_view errc_name(Errc code);        // found by to_string through ADL
//   using Error = base::Error<Errc>;
//   template <typename T> using Result = base::Result<T, Errc>;
//   using base::fail;
//   using base::to_string;
//   }
//
// Errors cross room boundaries as std::expected<T, Error>; a room that forwards another room's
// error converts it (rdpmux's from_bus keeps the bus message), it never passes it through.
#pragma once

#include <cstring>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace vitrine::base {

// `Errc`: the room's scoped enum. Aggregate, so a room writes Error{Errc::kX, 0, "what"}.
template <typename Errc>
struct Error {
  Errc code;
  // errno (or the failing API's own code, e.g. eglGetError()) when the room's code says which;
  // 0 otherwise.
  int sys_errno = 0;
  std::string message;  // what was wrong, with the offending values

  // A failed system call: "what: strerror(err)", code Errc::kSystem. Only rooms that have a
  // kSystem code get this.
  static Error sys(std::string what, int err)
    requires requires { Errc::kSystem; }
  {
    what += ": ";
    // std::strerror is portable; its buffer may be shared, so copy it out at once.
    what += std::strerror(err);
    return Error{Errc::kSystem, err, std::move(what)};
  }

  friend bool operator==(const Error&, const Error&) = default;
};

template <typename T, typename Errc>
using Result = std::expected<T, Error<Errc>>;

// "name: message", or just the name when there is no message. `errc_name(code)` is the room's
// own, found by argument-dependent lookup in the namespace of Errc.
template <typename Errc>
std::string to_string(const Error<Errc>& error) {
  std::string s(errc_name(error.code));
  if (!error.message.empty()) {
    s += ": ";
    s += error.message;
  }
  return s;
}

// `return fail(Errc::kMalformed, "length 7 < 8");` in a function returning Result<T>.
template <typename Errc>
std::unexpected<Error<Errc>> fail(Errc code, std::string message, int sys_errno = 0) {
  return std::unexpected(Error<Errc>{code, sys_errno, std::move(message)});
}

}  // namespace vitrine::base
