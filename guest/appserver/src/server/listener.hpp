// The appserver's front door: a TCP listening socket on the guest's loopback (port 3389 by
// default, 0 = any free port), a Unix stream socket (--unix PATH: the relay connects to it with
// rdp_target = "unix:PATH", no TCP stack on the guest hop), or a socket inherited from the relay
// (--fd).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <utility>

namespace vitrine::appserver {

class Listener {
 public:
  // Binds `address`:`port` (IPv4 or IPv6 literal) and listens.
  static std::expected<Listener, std::string> listen_tcp(const std::string& address, uint16_t port);
  // Binds the Unix stream socket `path` with mode 0600 (only the appserver's user, which the
  // relay runs as, may connect) and listens. The socket's folder is created (mode 0700) when
  // missing, one level only. A socket file left by a dead server is replaced; a live server
  // there, or a file that is not a socket, is refused. The destructor removes the socket file.
  static std::expected<Listener, std::string> listen_unix(const std::string& path);
  Listener(Listener&& o) noexcept
      : fd_(o.fd_), port_(o.port_), unix_path_(std::move(o.unix_path_)), unix_inode_(o.unix_inode_) {
    o.fd_ = -1;
    o.unix_path_.clear();
  }
  Listener& operator=(Listener&&) = delete;
  Listener(const Listener&) = delete;
  ~Listener();

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] uint16_t port() const { return port_; }  // 0 for a Unix socket
  [[nodiscard]] const std::string& unix_path() const { return unix_path_; }  // empty for TCP
  // Waits up to `timeout_ms` for a client. Returns the connected fd, -1 on timeout/EINTR.
  [[nodiscard]] int accept_client(int timeout_ms) const;

 private:
  Listener(int fd, uint16_t port) : fd_(fd), port_(port) {}
  int fd_;
  uint16_t port_;
  std::string unix_path_;
  // The socket file's {device, inode}: the destructor removes the path only while it is still
  // this socket (a successor may have replaced it).
  std::pair<uint64_t, uint64_t> unix_inode_{};
};

// Checks that `fd` is a connected stream socket we can serve (the --fd contract).
std::expected<void, std::string> check_inherited_socket(int fd);

}  // namespace vitrine::appserver
