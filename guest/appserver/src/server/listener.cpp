#include "listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vitrine::appserver {

std::expected<Listener, std::string> Listener::listen_tcp(const std::string& address, uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    return std::unexpected("not an IP address: " + address);
  }
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 4) != 0) {
    const int err = errno;
    ::close(fd);
    return std::unexpected("cannot listen on " + address + ":" + std::to_string(port) + ": " + std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
  const uint16_t real = bound.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                                                   : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return Listener(fd, real);
}

Listener::~Listener() {
  if (fd_ >= 0) ::close(fd_);
}

int Listener::accept_client(int timeout_ms) const {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return -1;
  const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c >= 0) {
    const int one = 1;
    // Small PDUs (input, window orders) must not wait for Nagle.
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return c;
}

std::expected<void, std::string> check_inherited_socket(int fd) {
  if (fd < 0 || ::fcntl(fd, F_GETFD) < 0) return std::unexpected("fd " + std::to_string(fd) + " is not open");
  int type = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return std::unexpected("fd " + std::to_string(fd) + " is not a socket");
  if (type != SOCK_STREAM) return std::unexpected("fd " + std::to_string(fd) + " is not a stream socket");
  sockaddr_storage peer{};
  socklen_t plen = sizeof(peer);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0)
    return std::unexpected("fd " + std::to_string(fd) + " is not connected");
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // launched programs must not inherit the client socket
  return {};
}

}  // namespace vitrine::appserver
