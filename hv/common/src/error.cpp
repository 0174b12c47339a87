#include "vitrine/hv/error.hpp"

namespace vitrine::hv {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kSystem: return "system error";
    case Errc::kTimeout: return "timeout";
    case Errc::kPeerClosed: return "peer closed";
    case Errc::kBus: return "bus";
  }
  return "unknown error";
}

Error from_bus(const ringbus::Error& e) {
  const Errc code = e.code == ringbus::Errc::kTimeout      ? Errc::kTimeout
                    : e.code == ringbus::Errc::kPeerClosed ? Errc::kPeerClosed
                    : e.code == ringbus::Errc::kSystem     ? Errc::kSystem
                                                           : Errc::kBus;
  // The bus's own text ("bad region header: ...") stays whole: it says what went wrong.
  return Error{code, e.sys_errno, ringbus::to_string(e)};
}

}  // namespace vitrine::hv
