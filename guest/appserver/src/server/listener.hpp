// The appserver's front door: a TCP listening socket on the guest's loopback (port 3389 by
// default, 0 = any free port) or a socket inherited from the relay (--fd).
#pragma once

#include <cstdint>
#include <expected>
#include <string>

namespace vitrine::appserver {

class Listener {
 public:
  // Binds `address`:`port` (IPv4 or IPv6 literal) and listens.
  static std::expected<Listener, std::string> listen_tcp(const std::string& address, uint16_t port);
  Listener(Listener&& o) noexcept : fd_(o.fd_), port_(o.port_) { o.fd_ = -1; }
  Listener& operator=(Listener&&) = delete;
  Listener(const Listener&) = delete;
  ~Listener();

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] uint16_t port() const { return port_; }
  // Waits up to `timeout_ms` for a client. Returns the connected fd, -1 on timeout/EINTR.
  [[nodiscard]] int accept_client(int timeout_ms) const;

 private:
  Listener(int fd, uint16_t port) : fd_(fd), port_(port) {}
  int fd_;
  uint16_t port_;
};

// Checks that `fd` is a connected stream socket we can serve (the --fd contract).
std::expected<void, std::string> check_inherited_socket(int fd);

}  // namespace vitrine::appserver
