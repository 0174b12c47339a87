#include "vitrine/rdpmux/host/error.hpp"

namespace vitrine::rdpmux::host {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kProtocol: return "protocol";
    case Errc::kLimit: return "limit";
    case Errc::kCertificateChanged: return "certificate-changed";
    case Errc::kConnect: return "connect";
    case Errc::kClosed: return "closed";
    case Errc::kBus: return "bus";
    case Errc::kSystem: return "system";
    case Errc::kConfig: return "config";
    case Errc::kExec: return "exec";
    case Errc::kTimeout: return "timeout";
  }
  return "unknown";
}

}  // namespace vitrine::rdpmux::host
