// rail_bench_server: RailTestServer as a program, for bench_e2e's QEMU TCG cases (it runs inside
// the guest, reached either through vitrine-guest's relay or through QEMU's user network).
// Listens on TCP, serves every connection with a RailBenchDriver (rail_bench_protocol.hpp).
//
//   rail_bench_server [--port N] [--bind IPV4]     defaults: port 3390, 0.0.0.0
// Prints "rail_bench_server: listening on IPV4:PORT" once listening (port 0: the kernel's
// pick); runs until killed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <list>
#include <memory>
#include <string>

#include "rail_bench_driver.hpp"

namespace {

int usage() {
  std::fprintf(stderr, "usage: rail_bench_server [--port N (0..65535, default 3390)] [--bind IPV4 (default 0.0.0.0)]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned port = 3390;
  std::string bind_to = "0.0.0.0";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--port" && i + 1 < argc) {
      const std::string v = argv[++i];
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size() || port > 65535) return usage();
    } else if (a == "--bind" && i + 1 < argc) {
      bind_to = argv[++i];
    } else {
      return usage();
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, bind_to.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "rail_bench_server: --bind %s is not an IPv4 address\n", bind_to.c_str());
    return 2;
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 8) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "rail_bench_server: listen on %s:%u: %s\n", bind_to.c_str(), port, std::strerror(errno));
    return 1;
  }
  std::printf("rail_bench_server: listening on %s:%u\n", bind_to.c_str(), unsigned(ntohs(addr.sin_port)));
  std::fflush(stdout);
  std::list<std::unique_ptr<vitrine::testing::RailBenchDriver>> sessions;
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      std::fprintf(stderr, "rail_bench_server: accept: %s\n", std::strerror(errno));
      return 1;
    }
    // What RDP servers set (and what bench_e2e's in-process paths set on theirs).
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sessions.remove_if([](const auto& s) { return s->finished(); });
    sessions.push_back(vitrine::testing::RailBenchDriver::start(fd, std::chrono::seconds(120)));
  }
}
