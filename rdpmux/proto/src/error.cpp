#include "vitrine/rdpmux/error.hpp"

namespace vitrine::rdpmux {

Error from_bus(const ringbus::Error& e) {
  const Errc code = e.code == ringbus::Errc::kTimeout      ? Errc::kTimeout
                    : e.code == ringbus::Errc::kPeerClosed ? Errc::kPeerClosed
                    : e.code == ringbus::Errc::kSystem     ? Errc::kSystem
                                                           : Errc::kBus;
  return Error{code, e.sys_errno, "bus: " + ringbus::to_string(e)};
}

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kMalformed: return "malformed";
    case Errc::kUnknownType: return "unknown-type";
    case Errc::kVersionMismatch: return "version-mismatch";
    case Errc::kOpenFailed: return "open-failed";
    case Errc::kNoFreeChannel: return "no-free-channel";
    case Errc::kFraming: return "framing";
    case Errc::kPeerClosed: return "peer-closed";
    case Errc::kTimeout: return "timeout";
    case Errc::kBus: return "bus";
    case Errc::kSystem: return "system";
    case Errc::kInvalidArgument: return "invalid-argument";
  }
  return "unknown";
}

}  // namespace vitrine::rdpmux
