#include "surface_guest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <vector>
#include <thread>
#include <signal.h>

#ifndef VITRINE_APPSERVER_BIN
#error "VITRINE_APPSERVER_BIN must name the vitrine-appserver binary"
#endif
#ifndef VITRINE_GUEST_BIN
#error "VITRINE_GUEST_BIN must name the vitrine-guest binary"
#endif

namespace vitrine::bench {

namespace {

using namespace std::chrono_literals;
namespace at = appserver::testing;

// A duplicate far above the fds the child receives (3, 4, 5): ChildProcess dup2()s them in
// order, and a source fd numbered 4 would be overwritten by the first dup2 onto 4.
ringbus::UniqueFd high_dup(int fd) { return ringbus::UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 100)); }

}  // namespace

std::expected<std::unique_ptr<SurfaceGuest>, std::string> SurfaceGuest::start(const std::filesystem::path& log_dir,
                                                                             bool surfaces) {
  std::unique_ptr<SurfaceGuest> g(new SurfaceGuest());
  g->log_dir_ = log_dir;
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  if (ec) return std::unexpected("cannot create " + log_dir.string() + ": " + ec.message());
  for (const char* bin : {VITRINE_APPSERVER_BIN, VITRINE_GUEST_BIN})
    if (::access(bin, X_OK) != 0) return std::unexpected(std::string(bin) + " is not built");
  g->xvfb_ = at::Xvfb::start(kDesktopWidth, kDesktopHeight);
  if (!g->xvfb_) return std::unexpected(std::string("Xvfb is missing or did not start (apt-get install xvfb)"));

  // The demo's bus (cli/src/demo_guest.cpp [bus]): the same sizes, so the same pool layout.
  hv::VmConfig config;
  config.name = "bench-surfaces";
  config.bus_size = 128u << 20;
  config.channels = 8;
  config.h2g_log2 = config.g2h_log2 = 20;
  config.surface_pool = 96u << 20;
  auto bus = hv::VmBus::create(config);
  if (!bus) return std::unexpected("bus: " + bus.error().message);
  g->bus_.emplace(std::move(*bus));

  const auto spawn = [&](const std::vector<std::string>& argv, const char* log, bool capture) {
    ringbus::UniqueFd region = high_dup(g->bus_->region_fd());
    ringbus::UniqueFd guest_bell = high_dup(g->bus_->wake_guest().fd());
    ringbus::UniqueFd host_bell = high_dup(g->bus_->wake_host().fd());
    at::ChildOptions o;
    o.capture_stdout = capture;
    o.stderr_path = (log_dir / log).string();
    o.fds = {{region.get(), 3}, {guest_bell.get(), 4}, {host_bell.get(), 5}};
    return at::ChildProcess(argv, o);  // the duplicates close here, the child's copies stay
  };
  g->relay_ = spawn({VITRINE_GUEST_BIN, "--bus-fd", "3", "--doorbell-fds", "4,5", "--no-catalog"}, "relay.log", false);
  // As the demo: the appserver on a Unix socket, the relay's target unix:PATH (no guest TCP hop).
  g->socket_ = log_dir / "appserver.sock";
  std::vector<std::string> argv{VITRINE_APPSERVER_BIN, "--display", g->xvfb_->display(), "--unix", g->socket_.string(),
                                "--bus-fd", "3", "--doorbell-fds", "4,5"};
  if (!surfaces) argv.emplace_back("--no-surfaces");
  g->appserver_ = spawn(argv, "appserver.log", true);
  if (!g->relay_.started() || !g->appserver_.started()) return std::unexpected(std::string("fork failed"));
  const auto line = g->appserver_.read_line_starting("vitrine-appserver listening on", 15s);
  if (!line) return std::unexpected("vitrine-appserver did not start (see " + (log_dir / "appserver.log").string() + ")");
  return g;
}

SurfaceGuest::~SurfaceGuest() {
  appserver_.stop();
  relay_.stop();
}

std::optional<at::SurfaceCountersLine> SurfaceGuest::guest_copies() {
  const auto lines = [&] {
    std::vector<at::SurfaceCountersLine> out;
    std::ifstream in(log_dir_ / "appserver.log");
    for (std::string l; std::getline(in, l);)
      if (auto c = at::parse_surface_counters(l)) out.push_back(*c);
    return out;
  };
  const std::size_t before = lines().size();
  if (!appserver_.started() || ::kill(appserver_.pid(), SIGUSR1) != 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (const auto now = lines(); now.size() > before) return now.back();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

bool SurfaceGuest::running() { return relay_.running() && appserver_.running(); }

std::optional<bool> SurfaceGuest::zero_copy_logged() const {
  std::ifstream in(log_dir_ / "appserver.log");
  std::optional<bool> last;
  for (std::string l; std::getline(in, l);) {
    if (l.find("surfaces: the host reads window surfaces") == std::string::npos) continue;
    last = l.find("zero-copy true") != std::string::npos;
  }
  return last;
}

}  // namespace vitrine::bench
