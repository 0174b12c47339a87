// vitrine-appserver through the whole Vitrine chain, with the host's own client:
//
//   guest Xvfb (xterm, xclock, xlogo) <- vitrine-appserver <- TCP 127.0.0.1 <- vitrine-guest's
//   Relay (io_uring) <- bus (memfd rings) <- HostMux + ConnectionBridge <- RdpClient (FreeRDP,
//   RemoteApp) -> RAIL window model + decoded desktop
//
// Windows must reach the host's window model with the guest's titles and geometry, the decoded
// pixels of each window must equal an XGetImage of the guest screen (lossless planar), and keys
// typed on the host must reach xterm. And a RAIL client that sends no Client Execute (how the
// host reconnects after the appserver restarted) must be served every current window.
#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include <X11/Xlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "support/child_process.hpp"
#include "support/wait_for.hpp"
#include "support/host_side.hpp"
#include "support/xvfb.hpp"
#include "vitrine/rdpmux/bus_doorbells.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/relay/relay.hpp"
#include "vitrine/relay/uring_engine.hpp"

#ifndef VITRINE_APPSERVER_BIN
#error "VITRINE_APPSERVER_BIN must name the vitrine-appserver binary"
#endif

namespace vitrine::appserver::testing {
namespace {

using namespace std::chrono_literals;
namespace host = rdpmux::host;

// The bus with the real relay on the guest side (its own thread) and HostMux on the host side,
// both in this process, as in the sandbox backend minus the namespaces.
class BusChain {
 public:
  // Empty string: ready; otherwise why not (io_uring missing, ...).
  std::string start() {
    auto host_bus = ringbus::Bus::create(ringbus::BusConfig::uniform(kChannels, 20, 20));
    if (!host_bus) return "bus: " + host_bus.error().message;
    host_bus_ = std::make_unique<ringbus::Bus>(std::move(*host_bus));
    auto guest_bus = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(host_bus_->fd())), ringbus::Side::kGuest);
    if (!guest_bus) return "guest attach: " + guest_bus.error().message;
    guest_bus_ = std::make_unique<ringbus::Bus>(std::move(*guest_bus));
    auto bells = rdpmux::BusDoorbells::create_eventfds(kChannels);
    if (!bells) return "doorbells: " + rdpmux::to_string(bells.error());
    auto guest_fds = bells->dup_fds();
    if (!guest_fds) return "doorbells: " + rdpmux::to_string(guest_fds.error());
    auto guest_bells = rdpmux::BusDoorbells::from_fds(std::move(*guest_fds));
    if (!guest_bells) return "doorbells: " + rdpmux::to_string(guest_bells.error());
    guest_bells_ = std::make_unique<rdpmux::BusDoorbells>(std::move(*guest_bells));
    auto engine = relay::UringEngine::create();
    if (!engine) return "io_uring unavailable: " + rdpmux::to_string(engine.error());
    engine_ = std::move(*engine);
    auto r = relay::Relay::create(*guest_bus_, *guest_bells_, *engine_);
    if (!r) return "relay: " + rdpmux::to_string(r.error());
    relay_ = std::move(*r);
    relay_thread_ = std::thread([this] { (void)relay_->run(stop_); });
    auto mux = rdpmux::HostMux::create(*host_bus_, std::move(*bells));
    if (!mux) return "host mux: " + rdpmux::to_string(mux.error());
    mux_ = std::move(*mux);
    if (!mux_->wait_ready(5s)) return "the relay did not answer Hello";
    return {};
  }

  ~BusChain() {
    stop_ = true;
    if (auto* bell = guest_bells_ ? guest_bells_->guest() : nullptr) bell->ring();
    if (relay_thread_.joinable()) relay_thread_.join();
    relay_.reset();
    mux_.reset();
  }

  // A host socket whose bytes travel host -> bus -> relay -> TCP 127.0.0.1:port in the guest
  // (what RemoteSession hands its RdpClient), or -1 with `why` set.
  int open_socket(std::uint16_t port, std::unique_ptr<host::ConnectionBridge>& bridge, std::string& why) {
    auto conn = mux_->open(rdpmux::Target::tcp(port), {.framed = true, .timeout = 5000ms});
    if (!conn) {
      why = rdpmux::to_string(conn.error());
      return -1;
    }
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      why = "socketpair failed";
      return -1;
    }
    auto b = host::ConnectionBridge::start(std::move(*conn), ringbus::UniqueFd(fds[1]));
    if (!b) {
      ::close(fds[0]);
      why = host::to_string(b.error());
      return -1;
    }
    bridge = std::move(*b);
    return fds[0];
  }

 private:
  static constexpr std::uint32_t kChannels = 8;  // control + 7 connections
  std::unique_ptr<ringbus::Bus> host_bus_, guest_bus_;
  std::unique_ptr<rdpmux::BusDoorbells> guest_bells_;
  std::unique_ptr<relay::UringEngine> engine_;
  std::unique_ptr<relay::Relay> relay_;
  std::unique_ptr<rdpmux::HostMux> mux_;
  std::atomic<bool> stop_{false};
  std::thread relay_thread_;
};

class AppServerChain : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* p : {"Xvfb", "xterm", "xlogo", "xclock"})
      if (!have_program(p)) GTEST_SKIP() << p << " not installed (scripts/deps/appserver.txt)";
    guest_ = Xvfb::start(1024, 768);
    if (!guest_) GTEST_SKIP() << "Xvfb did not start";
    dir_ = std::filesystem::temp_directory_path() /
           ("vitrine-appserver-chain-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    clients_.clear();  // before the bridges and the bus they talk through
    bridges_.clear();
    chain_.reset();
    server_.reset();
    apps_.clear();
    guest_.reset();
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  void start_app(const std::vector<std::string>& argv) {
    ChildOptions o;
    o.env = {{"DISPLAY", guest_->display()}, {"HOME", dir_.string()}};
    o.stderr_path = "/dev/null";
    apps_.emplace_back(argv, o);
  }

  TopLevel wait_guest_window(const std::string& res_class) {
    std::optional<TopLevel> w;
    EXPECT_TRUE(wait_for([&] { return (w = find_top_level(guest_->connection(), res_class)).has_value(); }, 15s))
        << res_class << " did not map; appserver log:\n" << log();
    return w.value_or(TopLevel{});
  }

  void start_server() {
    server_.reset();
    auto s = start_appserver(VITRINE_APPSERVER_BIN, guest_->display(), dir_, dir_ / "appserver.log",
                             {"--app", "xterm=xterm -title VitrineTerm -geometry 60x8+300+400 -e sh"});
    ASSERT_TRUE(s) << "appserver did not start: " << log();
    server_ = std::make_unique<AppServer>(std::move(*s));
  }

  // An RdpClient through the bus chain to the appserver.
  HostObserver& new_observer() { return observers_.emplace_back(); }

  host::RdpClient* connect_through_bus(const std::string& program, HostObserver& observer) {
    if (!chain_) {
      chain_ = std::make_unique<BusChain>();
      const std::string why = chain_->start();
      if (!why.empty()) {
        ADD_FAILURE() << why;
        return nullptr;
      }
    }
    std::unique_ptr<host::ConnectionBridge> bridge;
    std::string why;
    const int fd = chain_->open_socket(server_->port, bridge, why);
    if (fd < 0) {
      ADD_FAILURE() << "open through the bus: " << why;
      return nullptr;
    }
    bridges_.push_back(std::move(bridge));
    return finish_connect(fd, program, observer);
  }

  host::RdpClient* connect_direct(const std::string& program, HostObserver& observer) {
    const int fd = connect_loopback(server_->port);
    if (fd < 0) {
      ADD_FAILURE() << "cannot connect to port " << server_->port;
      return nullptr;
    }
    return finish_connect(fd, program, observer);
  }

  host::RdpClient* finish_connect(int fd, const std::string& program, HostObserver& observer) {
    auto client = start_rail_client(fd, program, observer);
    if (!client) {
      ADD_FAILURE() << host::to_string(client.error());
      return nullptr;
    }
    auto up = (*client)->wait_connected(30s);
    if (!up) {
      ADD_FAILURE() << "connect: " << host::to_string(up.error()) << "\nappserver log:\n" << log();
      return nullptr;
    }
    clients_.push_back(std::move(*client));
    return clients_.back().get();
  }

  // The host's model shows guest window `g` with `title` and the same frame, and the decoded
  // pixels there equal the guest screen's.
  ::testing::AssertionResult host_shows(HostObserver& observer, const TopLevel& g, const std::string& title) {
    std::string why = "no window in the host's model";
    const bool ok = wait_for(
        [&] {
          const auto w = observer.window(static_cast<host::WindowId>(g.id));
          if (!w) return false;
          const host::DesktopRect want{g.x, g.y, std::uint32_t(g.w), std::uint32_t(g.h)};
          if (w->title != title) {
            why = "title '" + w->title + "'";
            return false;
          }
          if (!(w->frame == want)) {
            why = "frame " + std::to_string(w->frame.width) + "x" + std::to_string(w->frame.height) + "+" +
                  std::to_string(w->frame.x) + "+" + std::to_string(w->frame.y);
            return false;
          }
          if (w->show != host::ShowState::kNormal) {
            why = "show state " + std::to_string(int(w->show));
            return false;
          }
          const auto guest_px = read_pixels(guest_->connection(), DefaultRootWindow(guest_->connection()), g.x, g.y,
                                            g.w, g.h);
          const auto host_px = observer.pixels(g.x, g.y, g.w, g.h);
          if (guest_px.empty() || guest_px != host_px) {
            std::size_t diff = 0;
            for (std::size_t i = 0; i < std::min(guest_px.size(), host_px.size()); ++i) diff += guest_px[i] != host_px[i];
            why = "pixels differ: " + std::to_string(diff) + " of " + std::to_string(guest_px.size());
            return false;
          }
          return true;
        },
        20s);
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "guest window 0x" << std::hex << g.id << std::dec << " '" << title << "' "
                                         << g.w << "x" << g.h << "+" << g.x << "+" << g.y << ": " << why;
  }

  std::string log() const {
    std::string out;
    if (std::FILE* f = std::fopen((dir_ / "appserver.log").c_str(), "r")) {
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
      std::fclose(f);
    }
    return out;
  }

  bool file_has_line(const std::filesystem::path& p, const std::string& line) {
    std::ifstream f(p);
    std::string got;
    return std::getline(f, got) && got == line;
  }

  std::unique_ptr<Xvfb> guest_;
  std::filesystem::path dir_;
  std::vector<ChildProcess> apps_;
  std::unique_ptr<AppServer> server_;
  std::unique_ptr<BusChain> chain_;
  std::vector<std::unique_ptr<host::ConnectionBridge>> bridges_;
  // The clients' display sinks: a client's session thread calls into its observer until the
  // client is stopped in TearDown, so observers live as long as the fixture (a test-local one
  // was used after its scope ended: a rare SIGSEGV under load).
  std::deque<HostObserver> observers_;
  std::vector<std::unique_ptr<host::RdpClient>> clients_;
};

TEST_F(AppServerChain, ClientWithoutExecuteIsServedEveryCurrentWindow) {
  start_app({"xlogo", "-title", "Vitrine logo", "-geometry", "200x150+50+60"});
  start_app({"xclock", "-title", "Vitrine clock", "-geometry", "150x150+600+60"});
  const TopLevel logo = wait_guest_window("XLogo");
  const TopLevel clock = wait_guest_window("XClock");
  start_server();
  HostObserver& observer = new_observer();
  host::RdpClient* client = connect_direct("", observer);  // RAIL handshake, no Client Execute
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(host_shows(observer, logo, "Vitrine logo")) << log();
  EXPECT_TRUE(host_shows(observer, clock, "Vitrine clock"));
  EXPECT_EQ(observer.windows().size(), 2u);
  EXPECT_EQ(log().find("exec '"), std::string::npos) << "no program was asked for";
  // The session stays usable: a program started later by Client Execute shows up too.
  ASSERT_TRUE(client->exec({.program = "||xterm"}, 20s));
  const TopLevel term = wait_guest_window("XTerm");
  EXPECT_TRUE(host_shows(observer, term, "VitrineTerm"));

  // Arguments reach the program as the host split them (FreeRDP 2.11's server alone would run
  // the argument string as the program: RailExecTap), with spaces, quotes, non-ASCII text and a
  // file path, in a working directory whose name has a space.
  const std::filesystem::path work = dir_ / "work dir";
  std::filesystem::create_directories(work);
  const std::string args = R"(-c 'printf "%s\n" "$PWD" "$@" > args.txt' sh "a b" 'it'\''s' h)" "\u00e9" R"(llo )" +
                           std::string("'") + (work / "some file.txt").string() + "'";
  ASSERT_TRUE(client->exec({.program = "/bin/sh", .arguments = args, .working_dir = work.string()}, 20s)) << log();
  std::vector<std::string> lines;
  EXPECT_TRUE(wait_for(
      [&] {
        std::ifstream f(work / "args.txt");
        lines.clear();
        for (std::string l; std::getline(f, l);) lines.push_back(l);
        return lines.size() == 5;
      },
      15s))
      << log();
  EXPECT_EQ(lines, (std::vector<std::string>{work.string(), "a b", "it's", "h\u00e9llo", (work / "some file.txt").string()}));
}

TEST_F(AppServerChain, WindowsPixelsAndTypingThroughTheBus) {
  start_app({"xclock", "-title", "Vitrine clock", "-geometry", "150x150+600+60"});
  const TopLevel clock = wait_guest_window("XClock");
  start_server();
  HostObserver& observer = new_observer();
  host::RdpClient* client = connect_through_bus("||xterm", observer);  // the handshake starts xterm
  ASSERT_NE(client, nullptr);
  const TopLevel term = wait_guest_window("XTerm");
  EXPECT_TRUE(host_shows(observer, clock, "Vitrine clock")) << log();
  ASSERT_TRUE(host_shows(observer, term, "VitrineTerm")) << log();

  // Keys typed on the host (scancodes) travel the bus and reach xterm's shell.
  const std::filesystem::path out = dir_ / "typed.txt";
  client->activate(static_cast<host::WindowId>(term.id), true);
  client->mouse_move({term.x + 40, term.y + 40});
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(type_text(*client, "echo chain-typed > " + out.string() + "\n")) << out;
  EXPECT_TRUE(wait_for([&] { return file_has_line(out, "chain-typed"); }, 15s)) << log();
  // What xterm drew in answer came back through the bus too.
  EXPECT_TRUE(host_shows(observer, term, "VitrineTerm"));
}

TEST_F(AppServerChain, AfterTheAppserverRestartsTheHostReconnectsWithoutExecute) {
  start_app({"xlogo", "-title", "Vitrine logo", "-geometry", "200x150+50+60"});
  const TopLevel logo = wait_guest_window("XLogo");
  start_server();
  {
    HostObserver& first = new_observer();
    ASSERT_NE(connect_through_bus("||xterm", first), nullptr);
    const TopLevel term = wait_guest_window("XTerm");
    ASSERT_TRUE(host_shows(first, term, "VitrineTerm")) << log();
  }
  // The appserver goes away (update, crash); the programs it started keep running.
  server_->process.stop();
  EXPECT_TRUE(clients_.back()->wait_ended(20s));
  const TopLevel term = wait_guest_window("XTerm");
  start_server();
  // What RemoteSession does: a new connection through the bus, and no Client Execute, since
  // re-running the program would open a second xterm.
  HostObserver& second = new_observer();
  ASSERT_NE(connect_through_bus("", second), nullptr);
  EXPECT_TRUE(host_shows(second, logo, "Vitrine logo")) << log();
  EXPECT_TRUE(host_shows(second, term, "VitrineTerm")) << log();
  EXPECT_EQ(second.windows().size(), 2u);
  EXPECT_EQ(log().find("exec '"), std::string::npos);
}

}  // namespace
}  // namespace vitrine::appserver::testing
