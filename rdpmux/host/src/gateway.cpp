#include "vitrine/rdpmux/host/gateway.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace vitrine::rdpmux::host {

Gateway::Gateway(std::filesystem::path path, Opener opener, ringbus::UniqueFd listen_fd, ringbus::UniqueFd stop_fd)
    : path_(std::move(path)), opener_(std::move(opener)), listen_fd_(std::move(listen_fd)), stop_fd_(std::move(stop_fd)) {}

Result<std::unique_ptr<Gateway>> Gateway::listen(std::filesystem::path path, Opener opener) {
  if (!opener) return fail(Errc::kConfig, "gateway needs a connection opener");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string p = path.string();
  if (p.empty() || p.size() >= sizeof addr.sun_path)
    return fail(Errc::kConfig, "socket path '" + p + "' is empty or longer than " +
                                   std::to_string(sizeof addr.sun_path - 1) + " bytes");
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  struct stat st {};
  if (::lstat(p.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return fail(Errc::kConfig, p + " exists and is not a socket; refusing to replace it");
    ::unlink(p.c_str());
  }
  ringbus::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail(Errc::kSystem, std::string("socket: ") + std::strerror(errno));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return fail(Errc::kSystem, "bind " + p + ": " + std::strerror(errno));
  ::chmod(p.c_str(), 0600);  // the socket reaches the guest's desktop: owner only
  if (::listen(fd.get(), 16) != 0) return fail(Errc::kSystem, "listen " + p + ": " + std::strerror(errno));
  ringbus::UniqueFd stop_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_fd) return fail(Errc::kSystem, std::string("eventfd: ") + std::strerror(errno));
  std::unique_ptr<Gateway> gw(new Gateway(std::move(path), std::move(opener), std::move(fd), std::move(stop_fd)));
  gw->thread_ = std::thread([g = gw.get()] { g->run(); });
  return gw;
}

Gateway::~Gateway() { stop(); }

void Gateway::stop() {
  if (!stopping_.exchange(true)) {
    const std::uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  std::vector<std::unique_ptr<ConnectionBridge>> bridges;
  {
    std::lock_guard lock(mutex_);
    bridges.swap(bridges_);
  }
  bridges.clear();  // each destructor stops and joins its bridge
  if (listen_fd_) {
    listen_fd_.reset();
    ::unlink(path_.c_str());
  }
}

std::size_t Gateway::active() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& b : bridges_) n += b->closed() ? 0 : 1;
  return n;
}

std::optional<Error> Gateway::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void Gateway::run() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) break;
    {
      // Reap finished bridges so a long-running gateway does not grow.
      std::lock_guard lock(mutex_);
      std::erase_if(bridges_, [](const auto& b) { return b->closed(); });
    }
    if (stopping_.load() || !(fds[0].revents & POLLIN)) continue;
    ringbus::UniqueFd client(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;
    accepted_.fetch_add(1, std::memory_order_relaxed);
    auto connection = opener_();
    if (!connection) {
      std::lock_guard lock(mutex_);
      last_error_ = Error{Errc::kConnect, 0, "cannot open a connection through the bus: " + rdpmux::to_string(connection.error())};
      continue;  // `client` closes: the outside client sees the connection refused
    }
    auto bridge = ConnectionBridge::start(std::move(*connection), std::move(client));
    std::lock_guard lock(mutex_);
    if (!bridge) {
      last_error_ = bridge.error();
      continue;
    }
    bridges_.push_back(std::move(*bridge));
  }
}

}  // namespace vitrine::rdpmux::host
