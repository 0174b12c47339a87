// The full chain with the real relay: RdpClient -> socketpair -> ConnectionBridge -> HostMux /
// bus -> vitrine-guest's Relay (io_uring) -> TCP loopback -> RailTestServer. And the Gateway:
// a client on a Unix socket -> Gateway -> bus -> relay -> server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "process_util.hpp"  // tests/guest/relay: Child, Xvfb
#include "rail_test_server.hpp"
#include "relay_harness.hpp"
#if VITRINE_TEST_HAVE_X11
#include "x11_screen.hpp"
#endif
#include "vitrine/rdpmux/host/cert_pin_store.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/gateway.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace vitrine::rdpmux::host {
namespace {

using namespace std::chrono_literals;
using vitrine::testing::RailTestServer;
using vitrine::testing::ReceivedInput;

class Observer final : public WindowEvents, public DisplaySink {
 public:
  void window_created(const WindowState& s) override { set([&] { titles[s.id] = s.title; }); }
  void window_changed(const WindowState& s, std::uint32_t) override { set([&] { titles[s.id] = s.title; }); }
  void window_deleted(WindowId id) override { set([&] { titles.erase(id); }); }
  void z_order_changed(std::span<const WindowId>) override {}
  void active_window_changed(WindowId) override {}
  void notify_icon_changed(const NotifyIconState&) override {}
  void notify_icon_deleted(WindowId, std::uint32_t) override {}
  void local_move_size(const LocalMoveSize&) override {}
  void framebuffer_changed(const FramebufferView& fb) override { set([&] { framebuffer = fb; }); }
  void damaged(const FramebufferView& fb, std::span<const DesktopRect> rects) override {
    set([&] {
      // A copy of the damaged pixels (0x00RRGGBB), made on the session thread while FreeRDP
      // leaves the framebuffer alone: the test thread compares the copy, never the live buffer.
      snapshot.resize(std::size_t{fb.width} * fb.height);
      for (const auto& r : rects) {
        area += std::uint64_t{r.width} * r.height;
        for (std::uint32_t y = 0; y < r.height; ++y)
          for (std::uint32_t x = 0; x < r.width; ++x) {
            const std::size_t px = std::size_t(r.x) + x, py = std::size_t(r.y) + y;
            std::uint32_t v;
            std::memcpy(&v, fb.pixels + py * fb.stride + px * 4, 4);
            snapshot[py * fb.width + px] = v & 0xFFFFFFu;
          }
      }
    });
  }
  template <typename P>
  bool wait(P p) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 20s, p);
  }
  std::uint32_t pixel(int x, int y) {
    std::lock_guard lock(mutex);
    std::uint32_t v;
    std::memcpy(&v, framebuffer.pixels + std::size_t(y) * framebuffer.stride + std::size_t(x) * 4, 4);
    return v;
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::map<WindowId, std::string> titles;
  FramebufferView framebuffer;
  std::uint64_t area = 0;
  std::vector<std::uint32_t> snapshot;  // damaged pixels so far, 0x00RRGGBB, rows top-down

 private:
  template <typename F>
  void set(F f) {
    {
      std::lock_guard lock(mutex);
      f();
    }
    cv.notify_all();
  }
};

class RelayChain : public testing::RelayHarness {
 protected:
  std::unique_ptr<RdpClient> connect(int fd, Observer& observer) {
    ClientConfig config;
    config.security = Security::kRdp;
    config.program = "||chain";
    config.width = 640;
    config.height = 480;
    auto client = RdpClient::start(config, ringbus::UniqueFd(fd), observer, observer);
    EXPECT_TRUE(client);
    if (!client) return nullptr;
    auto up = (*client)->wait_connected(20s);
    EXPECT_TRUE(up) << (up ? "" : to_string(up.error()));
    return std::move(*client);
  }

  testing::ServerPool pool_;
};

TEST_F(RelayChain, WindowsPixelsAndInputThroughTheRelay) {
  auto conn = mux_->open(rdpmux::Target::tcp(pool_.port()), {.framed = true, .timeout = 5000ms});
  ASSERT_TRUE(conn) << rdpmux::to_string(conn.error());
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto bridge = ConnectionBridge::start(std::move(*conn), ringbus::UniqueFd(fds[1]));
  ASSERT_TRUE(bridge);
  Observer observer;
  auto client = connect(fds[0], observer);
  ASSERT_TRUE(client);
  RailTestServer* server = pool_.wait_server(0);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->wait_ready(20s));
  ASSERT_TRUE(server->create_window({.id = 42, .title = "Through the relay", .x = 5, .y = 5, .width = 200, .height = 100}));
  ASSERT_TRUE(observer.wait([&] { return observer.titles.contains(42); }));
  EXPECT_EQ(observer.titles[42], "Through the relay");
  const auto pattern = [](std::int32_t x, std::int32_t y) { return vitrine::testing::test_pattern(x, y, 9); };
  ASSERT_TRUE(server->paint(0, 0, 256, 256, pattern));
  ASSERT_TRUE(observer.wait([&] { return observer.area >= 256u * 256u; }));
  int bad = 0;
  for (int y = 0; y < 256; ++y)
    for (int x = 0; x < 256; ++x) bad += (observer.pixel(x, y) & 0xFFFFFF) != (pattern(x, y) & 0xFFFFFF);
  EXPECT_EQ(bad, 0);
  client->key({0x2C, false}, true);
  client->mouse_move({300, 200});
  ASSERT_TRUE(server->wait_input(
      [](const std::vector<ReceivedInput>& in) {
        for (const auto& e : in)
          if (e.kind == ReceivedInput::Kind::kMouse && e.x == 300 && e.y == 200) return true;
        return false;
      },
      10s));
  // The server leaves: the client's session ends with an error, the host stays up.
  server->disconnect();
  EXPECT_TRUE(client->wait_ended(20s));
  EXPECT_TRUE(client->error());
  EXPECT_TRUE((*bridge)->wait_closed(20s));
}

TEST_F(RelayChain, GatewayServesAClientOnAUnixSocket) {
  const auto dir = std::filesystem::temp_directory_path() / ("vitrine-gw-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "rdp.sock";
  const std::uint16_t port = pool_.port();
  auto gw = Gateway::listen(path, [&] { return mux_->open(rdpmux::Target::tcp(port), {.framed = true, .timeout = 5000ms}); });
  ASSERT_TRUE(gw) << to_string(gw.error());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  Observer observer;
  auto client = connect(fd, observer);
  ASSERT_TRUE(client);
  RailTestServer* server = pool_.wait_server(0);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(server->wait_ready(20s));
  ASSERT_TRUE(server->create_window({.id = 7, .title = "Gateway", .x = 0, .y = 0, .width = 50, .height = 50}));
  ASSERT_TRUE(observer.wait([&] { return observer.titles.contains(7); }));
  EXPECT_EQ((*gw)->accepted(), 1u);
  EXPECT_EQ((*gw)->active(), 1u);
  client->stop();
  (*gw)->stop();
  EXPECT_FALSE(std::filesystem::exists(path));
  std::filesystem::remove_all(dir);
}

TEST_F(RelayChain, GatewayRefusesClientsWhenTheGuestTargetIsDown) {
  const auto dir = std::filesystem::temp_directory_path() / ("vitrine-gw2-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "rdp.sock";
  // Port 1 on the guest's loopback: nothing listens there.
  auto gw = Gateway::listen(path, [&] { return mux_->open(rdpmux::Target::tcp(1), {.framed = true, .timeout = 5000ms}); });
  ASSERT_TRUE(gw);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  char byte;
  EXPECT_EQ(::read(fd, &byte, 1), 0);  // closed by the gateway
  ::close(fd);
  for (int i = 0; i < 100 && !(*gw)->last_error(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE((*gw)->last_error());
  EXPECT_EQ((*gw)->last_error()->code, Errc::kConnect);
  (*gw)->stop();
  std::filesystem::remove_all(dir);
}

// Full desktop against a real server: freerdp-shadow-cli shadowing a private Xvfb, reached only
// through the bus and the relay, TLS with the certificate pinned for this "VM". The root window
// shows a known pattern; the client's framebuffer must equal an XGetImage screenshot of it
// exactly. Lossless because RdpClient advertises no lossy codec (no RemoteFX, NSCodec or GFX),
// so the shadow server sends planar bitmaps (lossless at 32 bpp). The cursor is not in either
// image: freerdp-shadow-cli 2.11 does not blend it into what it sends (its blend call is
// commented out) and XGetImage never returns a software cursor.
TEST_F(RelayChain, FullDesktopFromFreerdpShadowThroughTheRelay) {
  using relay::testing::Child;
  using relay::testing::have_program;
  using relay::testing::ScratchDir;
  if (!have_program("Xvfb") || !have_program("freerdp-shadow-cli"))
    GTEST_SKIP() << "needs Xvfb and freerdp-shadow-cli (freerdp2-shadow-x11)";
#if !VITRINE_TEST_HAVE_X11
  GTEST_SKIP() << "built without Xlib (libx11-dev): cannot draw on or screenshot the Xvfb";
#else
  constexpr std::uint32_t kWidth = 640, kHeight = 480;
  relay::testing::Xvfb screen("640x480x24");
  if (screen.display().empty()) GTEST_SKIP() << "Xvfb did not start";
  testing::X11Screen x11(screen.display());
  if (!x11.open()) GTEST_SKIP() << "cannot open " << screen.display();
  const auto pattern = [](std::uint32_t x, std::uint32_t y) {
    return vitrine::testing::test_pattern(static_cast<std::int32_t>(x), static_cast<std::int32_t>(y), 3) & 0xFFFFFFu;
  };
  ASSERT_TRUE(x11.paint_root(kWidth, kHeight, pattern)) << "depth " << x11.depth();
  const auto shot = x11.grab(kWidth, kHeight);
  ASSERT_TRUE(shot);
  ASSERT_EQ(shot->at(17, 33), pattern(17, 33));  // the screen shows the pattern
  // The server listens on a Unix socket of this test's own (/ipc-socket): no TCP port to pick,
  // so tests running in parallel never race for one.
  const ScratchDir sock_dir("vitrine-shadow-");
  const std::string sock = (sock_dir.path() / "rdp.sock").string();
  Child shadow = Child::start({"freerdp-shadow-cli", "/ipc-socket:" + sock, "-auth", "/sec:tls"},
                              {"DISPLAY=" + screen.display()});
  std::unique_ptr<rdpmux::Connection> conn;
  for (int i = 0; i < 150 && !conn; ++i) {
    auto c = mux_->open(rdpmux::Target::unix_socket(sock), {.framed = true, .timeout = 5000ms});
    if (c) conn = std::move(*c);
    else std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(conn) << "freerdp-shadow-cli did not listen on " << sock << " within 15 s";
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto bridge = ConnectionBridge::start(std::move(conn), ringbus::UniqueFd(fds[1]));
  ASSERT_TRUE(bridge);
  const auto pins = std::filesystem::temp_directory_path() / ("vitrine-shadow-pins-" + std::to_string(::getpid()));
  ClientConfig config;
  config.security = Security::kTls;
  config.vm_name = "shadow";
  config.pin_dir = pins;
  config.remote_app = false;
  config.width = kWidth;
  config.height = kHeight;
  Observer observer;
  auto client = RdpClient::start(config, ringbus::UniqueFd(fds[0]), observer, observer);
  ASSERT_TRUE(client) << to_string(client.error());
  auto up = (*client)->wait_connected(30s);
  ASSERT_TRUE(up) << to_string(up.error());
  // The shadow server sends the whole screen after activation, in several paints.
  const auto mismatches = [&] {
    if (observer.snapshot.size() != shot->pixels.size()) return shot->pixels.size();
    std::size_t bad = 0;
    for (std::size_t i = 0; i < shot->pixels.size(); ++i) bad += observer.snapshot[i] != shot->pixels[i];
    return bad;
  };
  const bool equal = observer.wait([&] { return observer.area >= std::uint64_t{kWidth} * kHeight && mismatches() == 0; });
  {
    std::lock_guard lock(observer.mutex);
    EXPECT_EQ(observer.framebuffer.width, kWidth);
    EXPECT_EQ(observer.framebuffer.height, kHeight);
    EXPECT_TRUE(equal) << mismatches() << " of " << shot->pixels.size() << " pixels differ from the screenshot";
    if (!equal && observer.snapshot.size() == shot->pixels.size()) {
      for (std::size_t i = 0; i < shot->pixels.size(); ++i)
        if (observer.snapshot[i] != shot->pixels[i]) {
          ADD_FAILURE() << "first difference at (" << i % kWidth << ", " << i / kWidth << "): client 0x" << std::hex
                        << observer.snapshot[i] << ", screen 0x" << shot->pixels[i];
          break;
        }
    }
  }
  EXPECT_TRUE(CertPinStore(pins).pinned("shadow"));
  (*client)->mouse_move({100, 100});
  EXPECT_TRUE((*client)->running());
  (*client)->stop();
  shadow.stop();
  std::filesystem::remove_all(pins);
#endif
}

}  // namespace
}  // namespace vitrine::rdpmux::host
