// vitrine-appserver --unix PATH: the RemoteApp server on a Unix stream socket instead of TCP,
// which the relay reaches with rdp_target = "unix:PATH" (the demo's guest does), so the guest hop
// has no TCP stack in it.
//
//   guest Xvfb (xlogo, xclock) <- vitrine-appserver --unix <- AF_UNIX <- RdpClient, directly or
//   through the real relay (Target::unix_socket) <- bus <- HostMux + ConnectionBridge
//
// Windows must reach the host's model with the guest's frames and the decoded pixels must equal
// the guest screen's; the socket file is 0600, a stale one is replaced, a live server or a file
// that is not a socket is refused, bad paths fail with a clear message, and the file goes away
// when the appserver exits. The host client asks for no bulk compression on a Unix socket, and the
// appserver's log says it sends none.
#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include <X11/Xlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <thread>

#include "relay_loop.hpp"
#include "support/child_process.hpp"
#include "support/wait_for.hpp"
#include "support/host_side.hpp"
#include "support/xvfb.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"

#ifndef VITRINE_APPSERVER_BIN
#error "VITRINE_APPSERVER_BIN must name the vitrine-appserver binary"
#endif

namespace vitrine::appserver::testing {
namespace {

using namespace std::chrono_literals;
namespace host = rdpmux::host;
namespace fs = std::filesystem;

sockaddr_un unix_address(const fs::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  return addr;
}

int connect_unix(const fs::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_un addr = unix_address(path);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

class AppServerUnixSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* p : {"Xvfb", "xlogo", "xclock"})
      if (!have_program(p)) GTEST_SKIP() << p << " not installed (scripts/deps/appserver.txt)";
    guest_ = Xvfb::start(1024, 768);
    if (!guest_) GTEST_SKIP() << "Xvfb did not start";
    dir_ = fs::temp_directory_path() / ("vitrine-appserver-unix-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    // A folder that does not exist yet: the appserver makes it (mode 0700), as /run/vitrine in
    // the sandbox guest's fresh /run.
    socket_ = dir_ / "run" / "appserver.sock";
  }

  void TearDown() override {
    clients_.clear();  // before the bridges and the bus they talk through
    bridges_.clear();
    relay_.reset();
    servers_.clear();
    apps_.clear();
    guest_.reset();
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
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
        << res_class << " did not map";
    return w.value_or(TopLevel{});
  }

  // vitrine-appserver with `args` after --display; stderr to `log_name` in the test folder.
  ChildProcess& spawn(const std::vector<std::string>& args, const std::string& log_name = "appserver.log") {
    std::vector<std::string> argv = {VITRINE_APPSERVER_BIN, "--display", guest_->display(), "--verbose"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildOptions o;
    o.env = {{"DISPLAY", guest_->display()}, {"SHELL", "/bin/sh"}, {"HOME", dir_.string()}};
    o.capture_stdout = true;
    o.stderr_path = (dir_ / log_name).string();
    servers_.emplace_back(argv, o);
    return servers_.back();
  }

  // An appserver listening on socket_; fails the test unless it says so on stdout.
  ChildProcess* start_server() {
    ChildProcess& p = spawn({"--unix", socket_.string()});
    const auto line = p.read_line_starting("vitrine-appserver listening on", 10s);
    EXPECT_TRUE(line) << "appserver did not start: " << log();
    if (!line) return nullptr;
    EXPECT_EQ(*line, "vitrine-appserver listening on unix:" + socket_.string());
    return &p;
  }

  // Runs an appserver that must refuse to start: its exit status, and its log in `why`.
  int refused(const std::vector<std::string>& args, std::string& why) {
    ChildProcess& p = spawn(args, "refused.log");
    EXPECT_TRUE(wait_for([&] { return !p.running(); }, 10s)) << "still running with a bad --unix";
    const int status = p.stop();
    why = log("refused.log");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  host::RdpClient* finish_connect(int fd, HostObserver& observer) {
    auto client = start_rail_client(fd, "", observer);  // no Client Execute: serve what runs
    if (!client) {
      ADD_FAILURE() << host::to_string(client.error());
      return nullptr;
    }
    if (auto up = (*client)->wait_connected(30s); !up) {
      ADD_FAILURE() << "connect: " << host::to_string(up.error()) << "\nappserver log:\n" << log();
      return nullptr;
    }
    clients_.push_back(std::move(*client));
    return clients_.back().get();
  }

  // The host's model shows guest window `g` with its frame, and the decoded pixels there equal
  // the guest screen's (the appserver's planar codec is lossless).
  ::testing::AssertionResult host_shows(HostObserver& observer, const TopLevel& g) {
    std::string why = "no window in the host's model";
    const bool ok = wait_for(
        [&] {
          const auto w = observer.window(static_cast<host::WindowId>(g.id));
          if (!w) return false;
          if (!(w->frame == host::DesktopRect{g.x, g.y, std::uint32_t(g.w), std::uint32_t(g.h)})) {
            why = "frame " + std::to_string(w->frame.width) + "x" + std::to_string(w->frame.height) + "+" +
                  std::to_string(w->frame.x) + "+" + std::to_string(w->frame.y);
            return false;
          }
          const auto guest_px = read_pixels(guest_->connection(), DefaultRootWindow(guest_->connection()), g.x, g.y,
                                            g.w, g.h);
          if (guest_px.empty() || guest_px != observer.pixels(g.x, g.y, g.w, g.h)) {
            why = "pixels differ";
            return false;
          }
          return true;
        },
        20s);
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "guest window " << g.w << "x" << g.h << "+" << g.x << "+" << g.y << ": "
                                         << why << "\nappserver log:\n" << log();
  }

  std::string log(const std::string& name = "appserver.log") const {
    std::string out;
    if (std::FILE* f = std::fopen((dir_ / name).c_str(), "r")) {
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
      std::fclose(f);
    }
    return out;
  }

  std::unique_ptr<Xvfb> guest_;
  fs::path dir_;
  fs::path socket_;
  std::vector<ChildProcess> apps_;
  std::vector<ChildProcess> servers_;
  std::unique_ptr<vitrine::testing::RelayLoop> relay_;
  std::vector<std::unique_ptr<host::ConnectionBridge>> bridges_;
  // Display sinks live as long as the fixture: a client's session thread calls into its
  // observer until TearDown stops the client.
  std::deque<HostObserver> observers_;
  std::vector<std::unique_ptr<host::RdpClient>> clients_;
};

TEST_F(AppServerUnixSocket, WindowsAndPixelsArriveOnTheSocket) {
  start_app({"xlogo", "-geometry", "200x150+50+60"});
  start_app({"xclock", "-geometry", "150x150+600+60"});
  const TopLevel logo = wait_guest_window("XLogo");
  const TopLevel clock = wait_guest_window("XClock");
  ChildProcess* server = start_server();
  ASSERT_NE(server, nullptr);

  struct stat st {};
  ASSERT_EQ(::lstat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u) << "only the appserver's user may connect";
  ASSERT_EQ(::stat(socket_.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "the folder the appserver made";

  const int fd = connect_unix(socket_);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  HostObserver& observer = observers_.emplace_back();
  host::RdpClient* client = finish_connect(fd, observer);
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(client->bulk_compression()) << "a Unix socket is local: no bulk compression asked";
  EXPECT_TRUE(host_shows(observer, logo));
  EXPECT_TRUE(host_shows(observer, clock));
  EXPECT_NE(log().find("bulk compression: off"), std::string::npos) << log();

  // SIGTERM: the appserver ends and takes its socket file with it.
  clients_.clear();
  const int status = server->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(fs::exists(fs::symlink_status(socket_))) << "the socket file outlived the appserver";
}

// The demo's path: the relay connects to rdp_target = "unix:PATH" (Target::unix_socket).
TEST_F(AppServerUnixSocket, TheRelayReachesItThroughAUnixTarget) {
  start_app({"xlogo", "-geometry", "200x150+50+60"});
  const TopLevel logo = wait_guest_window("XLogo");
  ASSERT_NE(start_server(), nullptr);
  auto loop = vitrine::testing::RelayLoop::start(4);
  if (!loop) GTEST_SKIP() << loop.error();
  relay_ = std::move(*loop);
  auto conn = relay_->mux().open(rdpmux::Target::unix_socket(socket_.string()), {.framed = true, .timeout = 5000ms});
  ASSERT_TRUE(conn) << rdpmux::to_string(conn.error());
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto bridge = host::ConnectionBridge::start(std::move(*conn), ringbus::UniqueFd(fds[1]));
  ASSERT_TRUE(bridge) << host::to_string(bridge.error());
  bridges_.push_back(std::move(*bridge));
  HostObserver& observer = observers_.emplace_back();
  host::RdpClient* client = finish_connect(fds[0], observer);
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(client->bulk_compression()) << "over the bus";
  EXPECT_TRUE(host_shows(observer, logo));
  EXPECT_NE(log().find("bulk compression: off"), std::string::npos) << log();
}

TEST_F(AppServerUnixSocket, ReplacesAStaleSocketFile) {
  // A socket file nobody listens on: what a killed appserver leaves behind.
  fs::create_directories(socket_.parent_path());
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_un addr = unix_address(socket_);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ASSERT_NE(start_server(), nullptr) << log();
  const int fd = connect_unix(socket_);
  EXPECT_GE(fd, 0) << "the new socket accepts";
  if (fd >= 0) ::close(fd);
}

TEST_F(AppServerUnixSocket, RefusesALiveServerAFileAndBadPaths) {
  ASSERT_NE(start_server(), nullptr);
  std::string why;
  EXPECT_EQ(refused({"--unix", socket_.string()}, why), 1);
  EXPECT_NE(why.find("another server already listens on " + socket_.string()), std::string::npos) << why;
  const int fd = connect_unix(socket_);
  EXPECT_GE(fd, 0) << "the first server's socket was left alone";
  if (fd >= 0) ::close(fd);

  const fs::path file = dir_ / "not-a-socket";
  std::fclose(std::fopen(file.c_str(), "w"));
  EXPECT_EQ(refused({"--unix", file.string()}, why), 1);
  EXPECT_NE(why.find("exists and is not a socket"), std::string::npos) << why;
  EXPECT_TRUE(fs::is_regular_file(file)) << "a file that is not a socket must never be removed";

  EXPECT_EQ(refused({"--unix", (dir_ / "missing" / "deeper" / "s.sock").string()}, why), 1);
  EXPECT_NE(why.find("cannot create the folder of the --unix socket"), std::string::npos) << why;
  EXPECT_EQ(refused({"--unix", "relative.sock"}, why), 1);
  EXPECT_NE(why.find("absolute path"), std::string::npos) << why;
  EXPECT_EQ(refused({"--unix", "/" + std::string(120, 'x')}, why), 1);
  EXPECT_NE(why.find("longer than"), std::string::npos) << why;
  // One front door: --unix with a TCP option is a usage error.
  EXPECT_EQ(refused({"--unix", (dir_ / "other.sock").string(), "--port", "0"}, why), 2);
}

}  // namespace
}  // namespace vitrine::appserver::testing
