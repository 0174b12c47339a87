#include "vitrine/hv/vmm_client.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

#include "vitrine/base/clock.hpp"
#include "vitrine/ringbus/handoff.hpp"

namespace vitrine::hv {

Result<VmmClient> VmmClient::launch(const VmmLaunch& l, const BusFds& fds) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return std::unexpected(Error::sys("socketpair", errno));
  UniqueFd mine(sv[0]);
  UniqueFd theirs(sv[1]);
  constexpr int kControlFd = 3;
  SpawnOptions o;
  o.argv = {l.vmm_path, "--config", l.config.string(), "--control-fd", std::to_string(kControlFd)};
  o.argv.insert(o.argv.end(), l.extra_args.begin(), l.extra_args.end());
  o.fds = {{theirs.get(), kControlFd}};
  o.stderr_fd = l.stderr_fd;
  o.stdout_fd = l.stderr_fd;
  o.parent_death_signal = SIGTERM;
  auto child = ChildProcess::spawn(o);
  if (!child) return std::unexpected(child.error());
  theirs.reset();
  // rdpmux::BusDoorbells wire order: guest, then host.
  const std::array<int, 2> bells{fds.wake_guest.get(), fds.wake_host.get()};
  if (auto r = ringbus::send_handoff(mine.get(), fds.region.get(), fds.region_size, bells); !r)
    return std::unexpected(from_bus(r.error()));
  return VmmClient(std::move(*child), std::move(mine));
}

Result<std::optional<std::string>> VmmClient::next_event(std::chrono::milliseconds timeout) {
  pollfd p{control_.get(), POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  if (r < 0) return std::unexpected(Error::sys("poll vmm control", errno));
  if (r == 0) return std::optional<std::string>();
  char buf[4096];
  const ssize_t n = ::recv(control_.get(), buf, sizeof buf, 0);
  if (n < 0) return std::unexpected(Error::sys("recv vmm control", errno));
  if (n == 0) return std::unexpected(Error{Errc::kPeerClosed, 0, "vitrine-vmm closed its control socket"});
  return std::optional<std::string>(std::string(buf, static_cast<std::size_t>(n)));
}

Result<std::string> VmmClient::wait_for(std::string_view prefix, std::chrono::milliseconds timeout,
                                        std::vector<std::string>* seen) {
  const auto deadline = base::Deadline::after(timeout);
  for (;;) {
    if (deadline.expired())
      return std::unexpected(Error{Errc::kTimeout, 0, "no \"" + std::string(prefix) + "\" event from vitrine-vmm"});
    auto e = next_event(std::chrono::milliseconds(deadline.remaining_ms()));
    if (!e) return std::unexpected(e.error());
    if (!*e) continue;
    if ((*e)->starts_with(prefix)) return **e;
    if (seen) seen->push_back(**e);
  }
}

Result<ExitStatus> VmmClient::stop(std::chrono::milliseconds timeout) {
  static constexpr char kStop[] = "stop";
  if (process_.running()) (void)::send(control_.get(), kStop, sizeof kStop - 1, MSG_NOSIGNAL);
  auto st = process_.wait_for(timeout);
  if (!st) return std::unexpected(st.error());
  if (!*st) return process_.terminate(std::chrono::milliseconds(100));
  return **st;
}

}  // namespace vitrine::hv
