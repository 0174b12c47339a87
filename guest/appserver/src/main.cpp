// vitrine-appserver: serves the windows of a guest X display as RemoteApp (RAIL) windows.
//   vitrine-appserver [--display :N] [--port P [--bind ADDR] | --unix PATH | --fd N] [--codec planar|raw|remotefx]
//                     [--app ALIAS=COMMAND]... [--no-shm] [--once] [--verbose]
#include <freerdp/channels/channels.h>
#include <freerdp/freerdp.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <winpr/ssl.h>
#include <winpr/wlog.h>
#include <winpr/wtsapi.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "exec/launcher.hpp"
#include "log.hpp"
#include "vitrine/base/log.hpp"
#include "process_memory.hpp"
#include "rdp/peer_session.hpp"
#include "surface/surface_publisher.hpp"
#include "server/listener.hpp"
#include "x11/x11_capture.hpp"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

struct Args {
  std::string display;
  std::string bind = "127.0.0.1";
  int port = 3389;
  bool tcp_given = false;  // --port or --bind on the command line
  std::string unix_path;   // --unix: listen there instead of on TCP
  int fd = -1;
  vitrine::appserver::rdp::Codec codec = vitrine::appserver::rdp::Codec::kPlanar;
  std::map<std::string, std::string> aliases;
  bool use_shm = true;
  int bus_fd = -1;                  // --bus-fd: the bus region inherited from the sandbox
  std::string doorbell_fds;         // --doorbell-fds: guest,host eventfds (BusDoorbells order)
  std::string ivshmem;              // --ivshmem BDF|auto: the bus through an ivshmem device
  bool surfaces = true;
  bool once = false;
  bool verbose = false;
};

constexpr std::string_view kUsage =
    "usage: vitrine-appserver [--display :N] [--port P [--bind ADDR] | --unix PATH | --fd N]\n"
    "                         [--codec planar|raw|remotefx] [--app ALIAS=COMMAND]...\n"
    "                         [--bus-fd N --doorbell-fds G,H | --ivshmem BDF|auto] [--no-surfaces]\n"
    "                         [--no-shm] [--once] [--verbose]\n"
    "  --display   X display to serve (default $DISPLAY)\n"
    "  --port      TCP port on --bind (default 3389; 0 = any free port, printed on stdout)\n"
    "  --bind      listen address (default 127.0.0.1: guest loopback only)\n"
    "  --unix      listen on this Unix stream socket instead of TCP (mode 0600, its folder made\n"
    "              when missing, a stale socket replaced, removed on exit); the relay reaches it\n"
    "              with rdp_target = \"unix:PATH\"\n"
    "  --fd        serve exactly one connection on this inherited, connected socket, then exit\n"
    "  --codec     pixel codec (default planar, lossless)\n"
    "  --app       RemoteApp alias: '||ALIAS' launches COMMAND (else ALIAS is looked up on PATH)\n"
    "  --no-shm    read pixels with XGetImage instead of MIT-SHM\n"
    "  --bus-fd    the Vitrine bus (inherited fd): window pixels as shared surfaces when the host\n"
    "              offers them (a surface pool in the bus), written there by the X server itself\n"
    "  --ivshmem   the bus through an ivshmem PCI device (auto: the first one)\n"
    "  --no-surfaces  every pixel over RDP even when the bus offers surfaces\n"
    "  --once      exit after the first client disconnects\n";

bool parse_int(std::string_view s, int& out) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&](std::string_view& v) {
      if (i + 1 >= argc) return false;
      v = argv[++i];
      return true;
    };
    std::string_view v;
    if (arg == "--display" && value(v)) {
      a.display = v;
    } else if (arg == "--bind" && value(v)) {
      a.bind = v;
      a.tcp_given = true;
    } else if (arg == "--port" && value(v)) {
      if (!parse_int(v, a.port) || a.port < 0 || a.port > 65535) return false;
      a.tcp_given = true;
    } else if (arg == "--unix" && value(v)) {
      if (v.empty()) return false;
      a.unix_path = v;
    } else if (arg == "--fd" && value(v)) {
      if (!parse_int(v, a.fd) || a.fd < 0) return false;
    } else if (arg == "--codec" && value(v)) {
      auto c = vitrine::appserver::rdp::parse_codec(v);
      if (!c) return false;
      a.codec = *c;
    } else if (arg == "--app" && value(v)) {
      const size_t eq = v.find('=');
      if (eq == 0 || eq == std::string_view::npos || eq + 1 == v.size()) return false;
      a.aliases[std::string(v.substr(0, eq))] = std::string(v.substr(eq + 1));
    } else if (arg == "--bus-fd" && value(v)) {
      if (!parse_int(v, a.bus_fd) || a.bus_fd < 0) return false;
    } else if (arg == "--doorbell-fds" && value(v)) {
      a.doorbell_fds = v;
    } else if (arg == "--ivshmem" && value(v)) {
      a.ivshmem = v;
    } else if (arg == "--no-surfaces") {
      a.surfaces = false;
    } else if (arg == "--no-shm") {
      a.use_shm = false;
    } else if (arg == "--once") {
      a.once = true;
    } else if (arg == "--verbose") {
      a.verbose = true;
    } else {
      return false;
    }
  }
  // --unix replaces the TCP listener; a TCP option beside it is a mistake, not a second door.
  // (--fd beside --port stays accepted, as before: --fd wins.)
  return a.unix_path.empty() || (!a.tcp_given && a.fd < 0);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vitrine::appserver;
  Args args;
  if (!parse(argc, argv, args)) {
    std::fputs(kUsage.data(), stderr);
    return 2;
  }
  configure_log(args.verbose);
  configure_freerdp_log(args.verbose);
  struct sigaction sa{};
  sa.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR and the loops see the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction usr1{};
  usr1.sa_handler = [](int) { surface::SurfacePublisher::request_stats_log(); };
  usr1.sa_flags = SA_RESTART;  // only a request for a log line: nothing should see EINTR
  sigaction(SIGUSR1, &usr1, nullptr);
  signal(SIGPIPE, SIG_IGN);
  winpr_InitializeSSL(WINPR_SSL_INIT_DEFAULT);
  WTSRegisterWtsApiFunctionTable(FreeRDP_InitWtsApi());

  // The bus first: whether it offers surfaces decides whether capture keeps per-window damage.
  std::unique_ptr<vitrine::relay::AttachedBus> bus;
  int bus_fd_for_x = -1;
  if (args.surfaces && (args.bus_fd >= 0 || !args.ivshmem.empty())) {
    auto attached = [&]() -> vitrine::rdpmux::Result<std::unique_ptr<vitrine::relay::AttachedBus>> {
      if (args.bus_fd >= 0) {
        auto fds = vitrine::relay::parse_fd_list(args.doorbell_fds.empty() ? std::string() : args.doorbell_fds);
        if (!args.doorbell_fds.empty() && !fds) return std::unexpected(fds.error());
        bus_fd_for_x = ::fcntl(args.bus_fd, F_DUPFD_CLOEXEC, 3);
        return vitrine::relay::attach_inherited(args.bus_fd, args.doorbell_fds.empty() ? std::vector<int>{} : *fds);
      }
      return vitrine::relay::attach_ivshmem("/sys", args.ivshmem == "auto" ? std::string() : args.ivshmem);
    }();
    if (!attached) {
      vitrine::base::log_warn("bus: {}: window pixels go over RDP",
                              vitrine::rdpmux::to_string(attached.error()));
    } else if (!(*attached)->bus.has_surface_pool()) {
      vitrine::base::log_info("bus: {} offers no surfaces (no surface pool): window pixels go over RDP",
                              (*attached)->description);
    } else {
      bus = std::move(*attached);
      // The host sleeps on its doorbell between frames: without this, notify_sent() rings
      // nothing and the host finds a Present only when something else wakes it.
      if (auto applied = bus->doorbells.apply(bus->bus); !applied)
        vitrine::base::log_warn("bus: doorbells: {}: the host finds surface records only when it polls",
                                vitrine::rdpmux::to_string(applied.error()));
      if (bus_fd_for_x < 0 && bus->device) {
        const std::string path = "/sys/bus/pci/devices/" + bus->device->pci_address() + "/resource2";
        bus_fd_for_x = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
      }
    }
  }

  auto capture = x11::X11Capture::open({args.display, args.use_shm, bus != nullptr});
  if (!capture) {
    vitrine::base::log_warn("{}", capture.error());
    return 1;
  }
  const char* env_display = std::getenv("DISPLAY");
  Launcher launcher(args.aliases, !args.display.empty() ? args.display : env_display ? env_display : "");
  vitrine::base::log_info("serving X display '{}' ({}x{}), pixels via {}",
                          args.display.empty() && env_display ? env_display : args.display,
                          (*capture)->desktop().width, (*capture)->desktop().height,
                          (*capture)->grabber().using_shm() ? "MIT-SHM" : "XGetImage");

  std::unique_ptr<surface::SurfacePublisher> surfaces;
  if (bus) {
    auto publisher = surface::SurfacePublisher::create(std::move(bus), bus_fd_for_x, **capture);
    if (!publisher)
      vitrine::base::log_warn("surfaces: {}", publisher.error());
    else surfaces = std::move(*publisher);
  }
  if (bus_fd_for_x >= 0) ::close(bus_fd_for_x);

  rdp::SessionOptions options;
  options.codec = args.codec;
  options.surfaces = surfaces.get();
  if (args.fd >= 0) {
    if (auto ok = check_inherited_socket(args.fd); !ok) {
      vitrine::base::log_warn("--fd: {}", ok.error());
      return 1;
    }
    const rdp::SessionStats st = rdp::serve_session(args.fd, **capture, launcher, options, g_stop);
    vitrine::base::log_info("session ended: {}", st.end_reason);
    if (surfaces) surfaces->log_stats();
    return st.activated ? 0 : 1;
  }

  auto listener = args.unix_path.empty() ? Listener::listen_tcp(args.bind, static_cast<uint16_t>(args.port))
                                         : Listener::listen_unix(args.unix_path);
  if (!listener) {
    vitrine::base::log_warn("{}", listener.error());
    return 1;
  }
  options.reject_fd = listener->fd();
  // Tests and the relay read the port from this line (port 0 picks a free one).
  if (args.unix_path.empty())
    std::printf("vitrine-appserver listening on %s:%u\n", args.bind.c_str(), listener->port());
  else
    std::printf("vitrine-appserver listening on unix:%s\n", listener->unix_path().c_str());
  std::fflush(stdout);
  while (!g_stop.load(std::memory_order_relaxed)) {
    (*capture)->pump();  // keep the window model current between clients
    launcher.reap();
    const int fd = listener->accept_client(200);
    if (fd < 0) continue;
    const rdp::SessionStats st = rdp::serve_session(fd, **capture, launcher, options, g_stop);
    // The session's ~8 MB are free now but glibc keeps them resident (process_memory.hpp): give
    // them back before the next client. The line comes before "session ended", so whoever waits
    // for that line finds it; appserver_soak_test judges its heap in use (leaks show there to the
    // byte, where RSS also moves with the allocator).
    const int64_t rss_held_kb = memory_usage().rss_kb;
    release_free_memory();
    const MemoryUsage left = memory_usage();
    vitrine::base::log_info(
        "memory after the session: heap in use {} kB, rss {} kB ({} kB before free heap pages went back)",
        left.heap_in_use_kb, left.rss_kb, rss_held_kb);
    vitrine::base::log_info("session ended: {} (frames {}, pixels {}, bytes {}, input {}, rail {}, exec {})",
                            st.end_reason, st.frames, st.pixels, st.payload_bytes, st.input_events,
                            st.rail_events, st.execs);
    if (surfaces) surfaces->log_stats();
    if (args.once) break;
  }
  return 0;
}
