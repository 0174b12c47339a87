#include "vitrine/ringbus/handoff.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "vitrine/ringbus/layout.hpp"

namespace vitrine::ringbus {

Result<void> send_handoff(int socket, int region_fd, std::uint64_t region_size,
                          std::span<const int> doorbell_fds, std::uint32_t doorbell_kind) {
  if (doorbell_fds.size() + 1 > kMaxHandoffFds)
    return std::unexpected(Error{Errc::kInvalidArgument, 0, "too many doorbell fds"});
  std::vector<int> fds{region_fd};
  fds.insert(fds.end(), doorbell_fds.begin(), doorbell_fds.end());
  HandoffMessage msg{kHandoffMagic, kLayoutVersion, static_cast<std::uint32_t>(fds.size()),
                     region_size, doorbell_kind, 0};
  iovec iov{&msg, sizeof msg};
  std::vector<std::byte> control(CMSG_SPACE(sizeof(int) * fds.size()));
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.data();
  mh.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&mh);
  if (c == nullptr) return std::unexpected(Error{Errc::kInvalidArgument, 0, "no room for SCM_RIGHTS"});
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  for (;;) {
    const ssize_t n = ::sendmsg(socket, &mh, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(sizeof msg)) return {};
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(Error::sys("sendmsg (bus handoff)", errno));
    return std::unexpected(Error{Errc::kSystem, 0, "short sendmsg (bus handoff)"});
  }
}

Result<Handoff> receive_handoff(int socket, std::chrono::milliseconds timeout) {
  pollfd pfd{socket, POLLIN, 0};
  const int pr = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (pr == 0) return std::unexpected(Error{Errc::kTimeout, 0, "no bus handoff within timeout"});
  if (pr < 0) return std::unexpected(Error::sys("poll (bus handoff)", errno));

  HandoffMessage msg{};
  iovec iov{&msg, sizeof msg};
  alignas(cmsghdr) std::byte control[CMSG_SPACE(sizeof(int) * kMaxHandoffFds)];
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return std::unexpected(Error::sys("recvmsg (bus handoff)", errno));
  if (n == 0) return std::unexpected(Error{Errc::kPeerClosed, 0, "peer closed before the bus handoff"});

  // Take ownership of every received fd first, so that each error path closes them.
  std::vector<UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  if (n != static_cast<ssize_t>(sizeof msg) || msg.magic != kHandoffMagic)
    return std::unexpected(Error{Errc::kBadHeader, 0, "bus handoff: not a handoff message"});
  if (msg.layout_version != kLayoutVersion)
    return std::unexpected(Error{Errc::kBadHeader, 0,
                                 "bus handoff: layout version " + std::to_string(msg.layout_version) +
                                     ", this build speaks " + std::to_string(kLayoutVersion)});
  if ((mh.msg_flags & MSG_CTRUNC) != 0 || fds.size() != msg.fd_count || fds.empty())
    return std::unexpected(Error{Errc::kBadHeader, 0,
                                 "bus handoff: announced " + std::to_string(msg.fd_count) +
                                     " fds, received " + std::to_string(fds.size())});
  Handoff h;
  h.region = std::move(fds.front());
  h.doorbells.assign(std::make_move_iterator(fds.begin() + 1), std::make_move_iterator(fds.end()));
  h.region_size = msg.region_size;
  h.doorbell_kind = msg.doorbell_kind;
  return h;
}

}  // namespace vitrine::ringbus
