#include "vitrine/hv/ivshmem_server.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <endian.h>

namespace vitrine::hv {


Result<void> ivshmem_send(int socket, std::int64_t value, int fd) {
  // ivshmem-spec: "a single 8 byte little-endian signed number".
  const std::uint64_t le = htole64(static_cast<std::uint64_t>(value));
  iovec iov{const_cast<std::uint64_t*>(&le), sizeof le};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    std::memset(control, 0, sizeof control);
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t n;
  do {
    n = ::sendmsg(socket, &mh, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof le)) return std::unexpected(Error::sys("sendmsg (ivshmem server)", errno));
  return {};
}

Result<IvshmemServer> IvshmemServer::listen(const std::string& path, int shm_fd, std::vector<int> host_vectors,
                                            std::vector<int> first_client_vectors) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return std::unexpected(Error{Errc::kInvalidArgument, 0, "ivshmem socket path too long: " + path});
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  IvshmemServer s;
  s.listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s.listen_) return std::unexpected(Error::sys("socket", errno));
  ::unlink(path.c_str());
  if (::bind(s.listen_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    return std::unexpected(Error::sys("bind " + path, errno));
  s.path_ = path;
  if (::listen(s.listen_.get(), 4) != 0) return std::unexpected(Error::sys("listen " + path, errno));
  s.shm_fd_ = shm_fd;
  s.host_vectors_ = std::move(host_vectors);
  s.first_vectors_ = std::move(first_client_vectors);
  return s;
}

IvshmemServer::~IvshmemServer() {
  if (!path_.empty() && listen_) ::unlink(path_.c_str());
}

Result<int> IvshmemServer::accept_client() {
  UniqueFd sock(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!sock) return std::unexpected(Error::sys("accept (ivshmem server)", errno));
  if (next_id_ > 65535) return std::unexpected(Error{Errc::kInvalidArgument, 0, "ivshmem: out of peer ids"});
  Client c;
  c.id = next_id_++;
  if (!first_used_ && !first_vectors_.empty()) {
    c.vectors = first_vectors_;
    first_used_ = true;
  } else {
    for (std::size_t i = 0; i < std::max<std::size_t>(host_vectors_.size(), 1); ++i) {
      UniqueFd e(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
      if (!e) return std::unexpected(Error::sys("eventfd", errno));
      c.vectors.push_back(e.get());
      c.owned_vectors.push_back(std::move(e));
    }
  }
  const int s = sock.get();
  // Steps 1-3 of the spec: version, id, shared memory.
  if (auto r = ivshmem_send(s, kProtocolVersion); !r) return std::unexpected(r.error());
  if (auto r = ivshmem_send(s, c.id); !r) return std::unexpected(r.error());
  if (auto r = ivshmem_send(s, -1, shm_fd_); !r) return std::unexpected(r.error());
  // Step 4: the other peers: the host first, then other clients.
  for (int v : host_vectors_)
    if (auto r = ivshmem_send(s, kHostPeerId, v); !r) return std::unexpected(r.error());
  for (auto& [fd, other] : clients_)
    for (int v : other.vectors)
      if (auto r = ivshmem_send(s, other.id, v); !r) return std::unexpected(r.error());
  // Step 5: its own vectors.
  for (int v : c.vectors)
    if (auto r = ivshmem_send(s, c.id, v); !r) return std::unexpected(r.error());
  // Step 6 for the others: the newcomer's vectors.
  for (auto& [fd, other] : clients_)
    for (int v : c.vectors) (void)ivshmem_send(fd, c.id, v);
  c.socket = std::move(sock);
  clients_.emplace(s, std::move(c));
  return s;
}

void IvshmemServer::disconnect(int client_fd) {
  auto it = clients_.find(client_fd);
  if (it == clients_.end()) return;
  const std::int64_t id = it->second.id;
  clients_.erase(it);
  for (auto& [fd, other] : clients_) (void)ivshmem_send(fd, id);
}

}  // namespace vitrine::hv
