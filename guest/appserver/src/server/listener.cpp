#include "listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>

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

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// Whether a server accepts connections on the socket file at `addr` right now. ECONNREFUSED (no
// listener behind the file) means a stale socket left by a server that died.
bool someone_listens(const sockaddr_un& addr, socklen_t len) {
  // Non-blocking: a Unix connect to a listener whose backlog is full would otherwise wait for
  // it; EAGAIN says just as well that someone listens.
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (probe < 0) return false;
  const bool live = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), len) == 0 || errno == EAGAIN;
  ::close(probe);
  return live;
}

}  // namespace

std::expected<Listener, std::string> Listener::listen_unix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.front() != '/')
    return std::unexpected("--unix needs an absolute path, not '" + path + "'");
  if (path.size() >= sizeof addr.sun_path)
    return std::unexpected("--unix path " + path + " is longer than " + std::to_string(sizeof addr.sun_path - 1) +
                           " bytes (the limit of a Unix socket address)");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);

  // The folder: created when missing (a fresh tmpfs /run in the sandbox guest has no
  // /run/vitrine), one level only, so that a mistyped deep path fails loudly.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT || ::mkdir(dir.c_str(), 0700) != 0)
      return std::unexpected(errno_text("cannot create the folder of the --unix socket " + dir));
  } else if (!S_ISDIR(st.st_mode)) {
    return std::unexpected(dir + " (the folder of the --unix socket) is not a folder");
  }
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return std::unexpected(path + " exists and is not a socket; refusing to replace it");
    if (someone_listens(addr, len)) return std::unexpected("another server already listens on " + path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return std::unexpected(errno_text("cannot remove the stale socket " + path));
  }

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(errno_text("socket"));
  // chmod between bind and listen: until listen() nobody can connect, so the umask's wider mode
  // of the fresh file is never usable.
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    const std::string why = errno_text("cannot bind the Unix socket " + path);
    ::close(fd);
    return std::unexpected(why);
  }
  if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 4) != 0 || ::lstat(path.c_str(), &st) != 0) {
    const std::string why = errno_text("cannot listen on the Unix socket " + path);
    ::close(fd);
    ::unlink(path.c_str());
    return std::unexpected(why);
  }
  Listener l(fd, 0);
  l.unix_path_ = path;
  l.unix_inode_ = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  return l;
}

Listener::~Listener() {
  if (fd_ >= 0) ::close(fd_);
  struct stat st {};
  if (!unix_path_.empty() && ::lstat(unix_path_.c_str(), &st) == 0 &&
      std::pair<uint64_t, uint64_t>{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)} == unix_inode_)
    ::unlink(unix_path_.c_str());
}

int Listener::accept_client(int timeout_ms) const {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return -1;
  const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c >= 0 && unix_path_.empty()) {
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
