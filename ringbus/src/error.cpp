#include "vitrine/ringbus/error.hpp"

namespace vitrine::ringbus {

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

}  // namespace vitrine::ringbus
