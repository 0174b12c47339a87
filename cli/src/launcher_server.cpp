#include "launcher_server.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "launcher_protocol.hpp"
#include "vitrine/base/clock.hpp"

namespace vitrine::cli {
namespace {

std::expected<ringbus::UniqueFd, std::string> bind_socket(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof addr.sun_path)
    return std::unexpected(fmt::format("socket path {} is too long", path.string()));
  std::memcpy(addr.sun_path, path.c_str(), path.native().size() + 1);

  // Another instance answering on this path wins; a file nobody answers on is stale.
  {
    ringbus::UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
      return std::unexpected(fmt::format("another Vitrine instance is already running on {}; stop it or pick "
                                         "another name with --instance", path.string()));
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode))
        return std::unexpected(fmt::format("{} exists and is not a socket; remove it", path.string()));
      ::unlink(path.c_str());
    }
  }
  ringbus::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return std::unexpected(fmt::format("socket: {}", std::strerror(errno)));
  // The folder is 0700 (runtime_paths), so the moment between bind and chmod exposes nothing.
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return std::unexpected(fmt::format("bind {}: {}", path.string(), std::strerror(errno)));
  if (::chmod(path.c_str(), 0600) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return std::unexpected(fmt::format("chmod 0600 {}: {}", path.string(), std::strerror(err)));
  }
  if (::listen(fd.get(), 16) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return std::unexpected(fmt::format("listen {}: {}", path.string(), std::strerror(err)));
  }
  return fd;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, 2000) <= 0) return;  // a client that stops reading loses its reply
        continue;
      }
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string error_line(std::string_view code, std::string_view message) {
  return encode_line({"error", std::string(code), std::string(message)});
}

}  // namespace

std::expected<std::unique_ptr<LauncherServer>, std::string> LauncherServer::start(LauncherServerOptions options,
                                                                                  InstanceService& service) {
  if (options.allowed_uid == static_cast<uid_t>(-1)) options.allowed_uid = ::geteuid();
  auto fd = bind_socket(options.socket_path);
  if (!fd) return std::unexpected(fd.error());
  ringbus::UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop) {
    ::unlink(options.socket_path.c_str());
    return std::unexpected(fmt::format("eventfd: {}", std::strerror(errno)));
  }
  auto server = std::unique_ptr<LauncherServer>(
      new LauncherServer(std::move(options), service, std::move(*fd), std::move(stop)));
  server->thread_ = std::thread([s = server.get()] { s->loop(); });
  spdlog::debug("launcher socket listening on {}", server->path().string());
  return server;
}

LauncherServer::LauncherServer(LauncherServerOptions options, InstanceService& service, ringbus::UniqueFd listen_fd,
                               ringbus::UniqueFd stop_fd)
    : options_(std::move(options)), service_(service), listen_fd_(std::move(listen_fd)), stop_fd_(std::move(stop_fd)) {}

LauncherServer::~LauncherServer() {
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::unlink(options_.socket_path.c_str());
}

void LauncherServer::loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    int rc = ::poll(fds, 2, workers_.empty() ? -1 : 100);  // finished workers are joined soon
    reap_workers(false);
    if (rc < 0) {
      if (errno == EINTR) continue;
      spdlog::error("launcher socket: poll: {}", std::strerror(errno));
      break;
    }
    if (fds[1].revents) break;
    if (!(fds[0].revents & POLLIN)) continue;
    ringbus::UniqueFd client(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!client) continue;
    if (workers_.size() >= options_.max_clients) {
      busy_.fetch_add(1, std::memory_order_relaxed);
      write_all(client.get(), error_line("busy", fmt::format("{} requests are being served; try again in a moment",
                                                             workers_.size())));
      continue;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back({std::thread([this, done, fd = std::make_shared<ringbus::UniqueFd>(std::move(client))] {
                          serve_client(fd->get());
                          fd->reset();  // the client sees the end of the reply before we are joined
                          done->store(true, std::memory_order_release);
                        }),
                        done});
  }
  reap_workers(true);  // the stop eventfd stays readable: every worker's waits end at once
}

void LauncherServer::reap_workers(bool all) {
  std::erase_if(workers_, [all](Worker& w) {
    if (!all && !w.done->load(std::memory_order_acquire)) return false;
    w.thread.join();
    return true;
  });
}

void LauncherServer::serve_client(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != options_.allowed_uid) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("launcher socket: refused a connection from uid {} pid {} (only uid {} may launch)", cred.uid,
                 cred.pid, options_.allowed_uid);
    write_all(fd, error_line("forbidden", fmt::format("this Vitrine instance belongs to uid {}; uid {} may not use it",
                                                      options_.allowed_uid, cred.uid)));
    return;
  }
  std::string buf;
  const auto deadline = base::Deadline::after(options_.client_timeout);
  for (;;) {
    auto nl = buf.find('\n');
    if (nl != std::string::npos) {
      std::string reply = handle(std::string_view(buf).substr(0, nl));
      served_.fetch_add(1, std::memory_order_relaxed);
      write_all(fd, reply);
      return;
    }
    if (buf.size() > kMaxRequestBytes) {
      write_all(fd, error_line("too-long", fmt::format("request exceeds {} bytes", kMaxRequestBytes)));
      return;
    }
    if (deadline.expired()) {
      write_all(fd, error_line("malformed", "no complete request line before the timeout"));
      return;
    }
    pollfd p[2] = {{fd, POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    int rc = ::poll(p, 2, deadline.remaining_ms());
    if (rc < 0 && errno != EINTR) return;
    if (rc > 0 && p[1].revents != 0) return;  // the instance is stopping
    if (rc <= 0) continue;
    char chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      // EOF without a newline: treat what came as the request (printf 'apps' | socat works).
      if (!buf.empty()) write_all(fd, handle(buf));
      return;
    }
    buf.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string LauncherServer::handle(std::string_view line) {
  auto fields = decode_line(line);
  if (!fields) return error_line("malformed", fields.error());
  if (fields->empty() || (*fields)[0].empty()) return error_line("malformed", "empty request");
  const std::string& verb = (*fields)[0];
  if (verb == "ping") return encode_line({"ok", std::string(kLauncherProtocolVersion)});
  if (verb == "apps") {
    auto apps = service_.apps();
    std::string out;
    for (const auto& a : apps) {
      std::string png(reinterpret_cast<const char*>(a.icon_png.data()), a.icon_png.size());
      out += encode_line({"app", a.id, a.name, catalog::command_line(a), base64_encode(png)});
    }
    out += encode_line({"ok", std::to_string(apps.size())});
    return out;
  }
  if (verb == "stats") {
    auto stats = service_.stats();
    std::string out;
    for (const auto& [name, value] : stats) out += encode_line({"stat", name, value});
    out += encode_line({"ok", std::to_string(stats.size())});
    return out;
  }
  if (verb == "launch" || verb == "launch-notify") {
    // launch-notify carries the XDG startup id first (startup_notify.hpp).
    const std::size_t at = verb == "launch" ? 1 : 2;
    if (fields->size() < at + 1 || (*fields)[at].empty())
      return error_line("malformed", verb + " needs " + (at == 2 ? "a startup id and " : "") + "an application name");
    const std::string startup_id = at == 2 ? (*fields)[1] : std::string();
    if (startup_id.size() > 1024 || startup_id.find_first_of(std::string_view("\0\n", 2)) != std::string::npos)
      return error_line("malformed", "the startup id is too long or holds a NUL or a newline");
    auto apps = service_.apps();
    const catalog::AppEntry* app = find_app(apps, (*fields)[at]);
    if (!app)
      return error_line("unknown-app", fmt::format("the guest publishes no application '{}'; published: {}",
                                                   (*fields)[at], published_list(apps)));
    std::vector<std::string> args(fields->begin() + static_cast<std::ptrdiff_t>(at) + 1, fields->end());
    auto started = service_.launch(*app, args, startup_id);
    if (!started) return error_line("launch-failed", started.error());
    return encode_line({"ok", *started});
  }
  return error_line("unknown-command", fmt::format("unknown request '{}'; known: ping, apps, launch, launch-notify, stats", verb));
}

}  // namespace vitrine::cli
