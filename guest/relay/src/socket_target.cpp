#include "vitrine/relay/socket_target.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "vitrine/rdpmux/control_codec.hpp"

namespace vitrine::relay {

rdpmux::Result<PreparedSocket> prepare_socket(const rdpmux::OpenMsg& open) {
  PreparedSocket s;
  if (open.target_kind == rdpmux::kTargetTcpLoopback) {
    s.fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.fd) return std::unexpected(rdpmux::Error::sys("socket(AF_INET)", errno));
    const int one = 1;
    ::setsockopt(s.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto* in = reinterpret_cast<sockaddr_in*>(&s.address);
    in->sin_family = AF_INET;
    in->sin_port = htons(open.port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s.length = sizeof(sockaddr_in);
    s.description = "127.0.0.1:" + std::to_string(open.port);
    return s;
  }
  if (open.target_kind == rdpmux::kTargetUnixPath) {
    const std::string_view path = rdpmux::path_of(open);
    auto* un = reinterpret_cast<sockaddr_un*>(&s.address);
    if (path.size() >= sizeof un->sun_path)
      return rdpmux::fail(rdpmux::Errc::kInvalidArgument, "Unix path too long");
    s.fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.fd) return std::unexpected(rdpmux::Error::sys("socket(AF_UNIX)", errno));
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    s.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    s.description = std::string(path);
    return s;
  }
  return rdpmux::fail(rdpmux::Errc::kInvalidArgument, "target kind " + std::to_string(open.target_kind));
}

}  // namespace vitrine::relay
