// Runs inside the outer (QEMU TCG) guest of the nested KVM test and bench, in vitrine's place.
//
// Test:  nested-launcher --bus-file /sys/bus/pci/devices/ADDR/resource2 -- /bin/vitrine-vmm ARGS
//   hands the bus to vitrine-vmm over its control socket exactly as vitrine does (VmmClient's
//   protocol: ringbus handoff with the region fd and the doorbells [wake_guest, wake_host], then
//   text events), prints every event as "vmm-event: <line>", exits with vitrine-vmm's status.
//   The region is QEMU's ivshmem BAR2 of the outer guest, so the bus chains from the test
//   machine's /dev/shm file down to the inner guest; the test up there is the bus host.
// Bench: nested-launcher --create-bus /dev/shm/NAME --serve --label L -- PROGRAM ARGS
//   formats a bus file here and is its host: times PROGRAM's start to the guest's hello,
//   samples the VMM's resident memory then (vitrine-vmm + vitrine-kvm, or the plain PROGRAM,
//   e.g. QEMU), answers the guest's pings (nested_protocol.hpp) and prints
//   "bench: L hello_ms=.. rss_kib=.. doorbell_ns=.. user_mmio_ns=.. rtt_doorbell_ns=.. rtt_poll_ns=..
//   init_ms=..". With --console FILE (the inner guest's serial log) it also times PROGRAM's start
//   to the inner /init's first line ("inner: init running"), on this clock: init_ms (-1 unseen).
//   The inner guest's own clock is no help there: two levels under TCG it ran 25-60% slower
//   than this one in the runs that compared them.
//   A PROGRAM named vitrine-vmm gets the handoff; any other runs as is.
// Statically linked (ringbus sources only): the initramfs has no C++ runtime of its own.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "nested_protocol.hpp"
#include "vitrine/ringbus/bus.hpp"
#include "vitrine/ringbus/handoff.hpp"

namespace nested = vitrine::hv::kvm::nested;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kib(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

bool is_vmm(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return std::strcmp(slash ? slash + 1 : path, "vitrine-vmm") == 0;
}

// Watches the inner guest's console log for the first line of its /init (bench mode): reads
// only the bytes added since the last look, at most every 20 ms (the file is written by the VMM,
// which may create or truncate it after the launcher started).
struct ConsoleWatch {
  std::string path;
  off_t offset = 0;
  std::string tail;  // an incomplete last line
  Clock::time_point last_look{};
  std::optional<Clock::time_point> init_at;

  void look(Clock::time_point now) {
    if (path.empty() || init_at || now - last_look < std::chrono::milliseconds(20)) return;
    last_look = now;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size < offset) offset = 0, tail.clear();  // truncated
    char buf[4096];
    ssize_t n;
    while ((n = ::pread(fd, buf, sizeof buf, offset)) > 0) {
      offset += n;
      tail.append(buf, static_cast<std::size_t>(n));
      if (tail.find("inner: init running") != std::string::npos) {
        init_at = now;
        break;
      }
      const auto nl = tail.rfind('\n');
      if (nl != std::string::npos) tail.erase(0, nl + 1);
    }
    ::close(fd);
  }
};

// The bench's host side: hello time, RSS at hello, pongs, the guest's result.
struct Server {
  std::string label;
  Clock::time_point t0;
  pid_t program = -1;
  pid_t kvm = -1;  // vitrine-kvm under vitrine-vmm ("info kvm pid N")
  std::optional<double> hello_ms;
  long rss = 0;
  std::optional<nested::BenchResult> result;
  std::uint32_t last_mode = 0;
  ConsoleWatch console;

  void serve(vitrine::ringbus::Channel& ch) {
    (void)ch.rx().read([&](const vitrine::ringbus::RecordView& r) {
      if (r.type == nested::kHello && !hello_ms) {
        hello_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        rss = rss_kib(program) + rss_kib(kvm);
      } else if (r.type == nested::kPing && r.payload.size() == 8) {
        std::uint32_t ping[2];
        std::memcpy(ping, r.payload.data(), 8);
        last_mode = ping[1];
        (void)ch.try_send(nested::kPong, std::as_bytes(std::span(ping, 1)));
      } else if (r.type == nested::kResult && r.payload.size() == sizeof(nested::BenchResult)) {
        nested::BenchResult b;
        std::memcpy(&b, r.payload.data(), sizeof b);
        result = b;
      }
    });
  }

  void print() const {
    const nested::BenchResult b = result.value_or(nested::BenchResult{});
    const double init_ms =
        console.init_at ? std::chrono::duration<double, std::milli>(*console.init_at - t0).count() : -1.0;
    std::printf("bench: %s hello_ms=%.1f rss_kib=%ld doorbell_ns=%llu user_mmio_ns=%llu rtt_doorbell_ns=%llu "
                "rtt_poll_ns=%llu init_ms=%.1f\n",
                label.c_str(), hello_ms.value_or(-1.0), rss, static_cast<unsigned long long>(b.doorbell_write_ns),
                static_cast<unsigned long long>(b.user_mmio_write_ns),
                static_cast<unsigned long long>(b.rtt_doorbell_ns), static_cast<unsigned long long>(b.rtt_poll_ns),
                init_ms);
    std::fflush(stdout);
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string bus_file, create_bus, label = "vm", console_path;
  bool serve = false;
  int timeout_s = 300;
  std::vector<char*> child_argv;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--bus-file" && i + 1 < argc) bus_file = argv[++i];
    else if (a == "--create-bus" && i + 1 < argc) create_bus = argv[++i];
    else if (a == "--label" && i + 1 < argc) label = argv[++i];
    else if (a == "--timeout" && i + 1 < argc) timeout_s = std::atoi(argv[++i]);
    else if (a == "--console" && i + 1 < argc) console_path = argv[++i];
    else if (a == "--serve") serve = true;
    else if (a == "--") {
      for (++i; i < argc; ++i) child_argv.push_back(argv[i]);
    } else {
      std::fprintf(stderr, "nested-launcher: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (bus_file.empty() == create_bus.empty() || child_argv.empty()) {
    std::fprintf(stderr, "usage: nested-launcher (--bus-file FILE | --create-bus FILE) [--serve] [--label L] "
                         "[--timeout S] [--console FILE] -- PROGRAM ARGS...\n");
    return 2;
  }
  std::optional<vitrine::ringbus::Bus> host_bus;
  if (!create_bus.empty()) {
    // The nested test's geometry: 1 channel, 64 KiB rings, a 1 MiB (power-of-two) file.
    auto bus = vitrine::ringbus::Bus::create_at_path(create_bus, vitrine::ringbus::BusConfig::uniform(1, 16, 16));
    if (!bus || ::truncate(create_bus.c_str(), 1 << 20) != 0) {
      std::printf("nested-launcher: create bus %s failed\n", create_bus.c_str());
      return 1;
    }
    host_bus.emplace(std::move(*bus));
    bus_file = create_bus;
  }
  const int region = ::open(bus_file.c_str(), O_RDWR | O_CLOEXEC);
  struct stat st {};
  if (region < 0 || ::fstat(region, &st) != 0) {
    std::printf("nested-launcher: open %s: %s\n", bus_file.c_str(), std::strerror(errno));
    return 1;
  }
  const bool vmm = is_vmm(child_argv[0]);
  const int wake_guest = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  const int wake_host = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int sv[2];
  if (wake_guest < 0 || wake_host < 0 || ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    std::printf("nested-launcher: eventfd/socketpair: %s\n", std::strerror(errno));
    return 1;
  }
  Server server;
  server.label = label;
  server.console.path = console_path;
  server.t0 = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    if (vmm) {
      ::dup2(sv[1], 3);  // dup2 clears FD_CLOEXEC on the copy
      static char control_flag[] = "--control-fd";
      static char control_fd[] = "3";
      child_argv.push_back(control_flag);
      child_argv.push_back(control_fd);
    }
    child_argv.push_back(nullptr);
    ::execv(child_argv[0], child_argv.data());
    std::printf("nested-launcher: exec %s: %s\n", child_argv[0], std::strerror(errno));
    ::_exit(127);
  }
  server.program = pid;
  ::close(sv[1]);
  int control = -1;
  if (vmm) {
    control = sv[0];
    const std::array<int, 2> bells{wake_guest, wake_host};  // rdpmux::BusDoorbells wire order
    if (auto r = vitrine::ringbus::send_handoff(control, region, static_cast<std::uint64_t>(st.st_size), bells); !r) {
      std::printf("nested-launcher: handoff: %s\n", vitrine::ringbus::to_string(r.error()).c_str());
    }
  }
  const auto deadline = server.t0 + std::chrono::seconds(timeout_s);
  int status = 0;
  bool exited = false;
  while (!exited) {
    if (Clock::now() > deadline) {
      std::printf("nested-launcher: %s still running after %d s: killing it\n", child_argv[0], timeout_s);
      ::kill(pid, SIGKILL);
    }
    // Sleep on the control socket and the host doorbell, except while the guest measures the
    // polling round trip: then the ring is polled (a short poll timeout keeps it responsive).
    const int wait_ms = !serve ? 200 : server.last_mode == nested::kModePoll ? 0 : 1;
    pollfd p[2] = {{control, POLLIN, 0}, {wake_host, POLLIN, 0}};
    ::poll(p, 2, wait_ms);
    if (p[1].revents != 0) {
      std::uint64_t v;
      (void)!::read(wake_host, &v, sizeof v);
    }
    if (control >= 0 && p[0].revents != 0) {
      char buf[4096];
      const ssize_t n = ::recv(control, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        const std::string line(buf, static_cast<std::size_t>(n));
        std::printf("vmm-event: %s\n", line.c_str());
        std::fflush(stdout);
        if (line.rfind("info kvm pid ", 0) == 0) server.kvm = std::atoi(line.c_str() + 13);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(control);
        control = -1;
      }
    }
    if (serve && host_bus) server.serve(host_bus->channel(0));
    server.console.look(Clock::now());
    if (::waitpid(pid, &status, WNOHANG) == pid) exited = true;
  }
  if (serve && host_bus) server.serve(host_bus->channel(0));  // what came just before the exit
  if (control >= 0) {  // the last events
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(control, buf, sizeof buf, MSG_DONTWAIT)) > 0) std::printf("vmm-event: %.*s\n", int(n), buf);
  }
  if (serve) server.print();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
