#include "launcher_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "launcher_protocol.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::cli {

std::expected<LauncherReply, LauncherClientError> launcher_request(const std::filesystem::path& socket_path,
                                                                    const std::vector<std::string>& request,
                                                                    std::chrono::milliseconds timeout) {
  auto err = [](std::string m, bool none = false) { return std::unexpected(LauncherClientError{none, std::move(m)}); };
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.native().size() >= sizeof addr.sun_path) return err("socket path too long");
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.native().size() + 1);
  ringbus::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return err(fmt::format("socket: {}", std::strerror(errno)));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    bool none = e == ENOENT || e == ECONNREFUSED;
    return err(fmt::format("cannot connect to {}: {}", socket_path.string(), std::strerror(e)), none);
  }
  std::string line = encode_line(request);
  for (std::string_view rest = line; !rest.empty();) {
    ssize_t n = ::send(fd.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      // The server may answer before it reads and close at once (a refused peer): its reply
      // is still queued for us, so read it rather than report the broken pipe.
      if (errno == EPIPE || errno == ECONNRESET) break;
      return err(fmt::format("send: {}", std::strerror(errno)));
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  LauncherReply reply;
  std::string buf;
  const auto deadline = base::Deadline::after(timeout);
  for (;;) {
    std::size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      auto fields = decode_line(std::string_view(buf).substr(0, nl));
      buf.erase(0, nl + 1);
      if (!fields) return err(fmt::format("malformed reply: {}", fields.error()));
      if (fields->empty()) continue;
      const std::string& kind = (*fields)[0];
      if (kind == "ok") {
        reply.ok = true;
        reply.message = fields->size() > 1 ? (*fields)[1] : "";
        return reply;
      }
      if (kind == "error") {
        reply.code = fields->size() > 1 ? (*fields)[1] : "unknown";
        reply.message = fields->size() > 2 ? (*fields)[2] : "";
        return reply;
      }
      reply.data.push_back(std::move(*fields));
    }
    if (buf.size() > kMaxReplyLineBytes) return err("reply line too long");
    if (deadline.expired())
      return err(fmt::format("no reply from {} within {} ms", socket_path.string(), timeout.count()));
    pollfd p{fd.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, deadline.remaining_ms());
    if (rc < 0 && errno != EINTR) return err(fmt::format("poll: {}", std::strerror(errno)));
    if (rc <= 0) continue;
    char chunk[16384];
    ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return err(fmt::format("recv: {}", std::strerror(errno)));
    if (n == 0) return err("the instance closed the connection without a reply");
    buf.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace vitrine::cli
