#include "vitrine/ringbus/error.hpp"

#include <cstring>

namespace vitrine::ringbus {

Error Error::sys(std::string what, int err) {
  what += ": ";
  what += std::strerror(err);
  return Error{Errc::kSystem, err, std::move(what)};
}

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kClaimTooLarge: return "claim too large";
    case Errc::kChannelFault: return "channel fault";
    case Errc::kBadHeader: return "bad region header";
    case Errc::kSystem: return "system error";
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kTimeout: return "timeout";
    case Errc::kPeerClosed: return "peer closed";
  }
  return "unknown error";
}

std::string to_string(const Error& error) {
  std::string s(errc_name(error.code));
  if (!error.message.empty()) {
    s += ": ";
    s += error.message;
  }
  return s;
}

}  // namespace vitrine::ringbus
