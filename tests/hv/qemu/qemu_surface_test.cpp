// Surfaces over ivshmem in a QEMU TCG guest (qemu_surface_guest.hpp; issue 15): the guest's
// vitrine-appserver publishes its X application's window as a surface in the bus's pool, and the
// host reads it the way `vitrine run` does (HostMux + RdpClient for RemoteApp over the bus,
// SurfaceReceiver on the surface channel), with a checking sink in place of the compositor: it
// keeps a copy of the window made of every Present's damaged rectangles, read from pool memory
// during the sink call (as an upload would), and the test compares that copy pixel by pixel with
// what the application drew (surface_stamp_protocol.hpp: StampWindow's image, known per slot):
//   1. the first paint (before the host connected): Create + Present of the whole window
//   2. a pointer move (input over RDP -> XTest -> the application paints): one Present
//   3. a pointer move in the trigger band: a batch of 8 paints, the last one must arrive
// Then the RDP session ends and the appserver logs its counters: whether its X server attached
// the BAR (zero-copy) or the appserver copied in user space (the counted fallback); both pass,
// the test reports which. Skipped with the reason without QEMU, Xvfb or a guest image.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <string>
#include <thread>
#include <vector>

#include "guest_image.hpp"
#include "null_sink.hpp"
#include "qemu_surface_guest.hpp"
#include "surface_stamp_protocol.hpp"
#include "vitrine/rdpmux/bus_doorbells.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/viewer/surface_receiver.hpp"

namespace vitrine::hv::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace rh = rdpmux::host;
namespace ss = surface_stamp;

// The host's copy of the application's window, built only from Presents.
class CheckingSink final : public viewer::SurfaceSink {
 public:
  explicit CheckingSink(std::uint32_t window) : window_(window), pixels_(std::size_t(ss::kSide) * ss::kSide, 0) {}
  bool surface_attached(std::uint32_t window, std::uint32_t width, std::uint32_t height) override {
    if (window == window_) {
      attached_ = true;
      width_ = width;
      height_ = height;
    }
    return true;
  }
  void surface_presented(std::uint32_t window, const viewer::SurfaceFrame& frame) override {
    if (window != window_ || frame.width != ss::kSide || frame.height != ss::kSide) return;
    ++presents_;
    for (const viewer::SurfaceRect& r : frame.rects)
      for (std::int32_t y = r.y; y < r.y + r.height; ++y)
        for (std::int32_t x = r.x; x < r.x + r.width; ++x) {
          std::uint32_t v = 0;
          std::memcpy(&v, frame.pixels + std::size_t(y) * frame.stride + std::size_t(x) * 4, 4);
          pixels_[std::size_t(y) * ss::kSide + std::size_t(x)] = v & 0xFFFFFF;  // depth 24
        }
  }
  void surface_detached(std::uint32_t window) override {
    if (window == window_) ++detached_;
  }

  [[nodiscard]] std::uint32_t stamp() const { return pixels_.back(); }
  // The first pixel that differs from StampWindow's image of `slot` with `stamp`, or "".
  [[nodiscard]] std::string mismatch(int slot, std::uint32_t stamp) const {
    int wrong = 0;
    std::string first;
    for (int y = 0; y < ss::kSide; ++y)
      for (int x = 0; x < ss::kSide; ++x) {
        const std::uint32_t want = ss::pattern_pixel(x, y, slot, stamp);
        const std::uint32_t got = pixels_[std::size_t(y) * ss::kSide + std::size_t(x)];
        if (got == want) continue;
        if (wrong++ == 0) {
          char b[128];
          std::snprintf(b, sizeof b, "pixel (%d, %d) is %06x, drawn %06x", x, y, got, want);
          first = b;
        }
      }
    return wrong == 0 ? std::string() : first + " (" + std::to_string(wrong) + " pixels differ)";
  }
  bool attached_ = false;
  std::uint32_t width_ = 0, height_ = 0;
  int presents_ = 0;
  int detached_ = 0;

 private:
  std::uint32_t window_;
  std::vector<std::uint32_t> pixels_;
};

// RDP paints (FreeRDP's session thread): the rectangles that cover the application's window.
class RdpDamage final : public testing::NullSink {
 public:
  void damaged(const rh::FramebufferView&, std::span<const rh::DesktopRect> rects) override {
    std::lock_guard lock(mutex_);
    for (const rh::DesktopRect& r : rects) {
      ++rects_;
      const bool apart = r.x + std::int64_t(r.width) <= ss::kWindowX || r.x >= ss::kWindowX + ss::kSide ||
                         r.y + std::int64_t(r.height) <= ss::kWindowY || r.y >= ss::kWindowY + ss::kSide;
      if (!apart) ++over_window_;
    }
  }
  std::pair<int, int> counts() {
    std::lock_guard lock(mutex_);
    return {rects_, over_window_};
  }

 private:
  std::mutex mutex_;
  int rects_ = 0;
  int over_window_ = 0;
};

// The host side as `vitrine run` wires it for a VM with a surface pool, minus the compositor.
struct Host {
  RdpDamage rdp_sink;  // the surface window's pixels need no RDP paint
  std::unique_ptr<rdpmux::HostMux> mux;
  std::unique_ptr<viewer::SurfaceReceiver> receiver;
  std::unique_ptr<rh::ConnectionBridge> bridge;
  std::unique_ptr<rh::RdpClient> client;

  std::string start(QemuSurfaceGuest& guest, viewer::SurfaceSink& sink) {
    std::vector<ringbus::UniqueFd> fds;
    for (int fd : {guest.bus().wake_guest().fd(), guest.bus().wake_host().fd()}) {
      auto d = dup_fd(fd);
      if (!d) return "doorbell: " + d.error().message;
      fds.push_back(std::move(*d));
    }
    auto bells = rdpmux::BusDoorbells::from_fds(std::move(fds));
    if (!bells) return "doorbells: " + rdpmux::to_string(bells.error());
    auto m = rdpmux::HostMux::create(guest.bus().bus(), std::move(*bells));
    if (!m) return "host mux: " + rdpmux::to_string(m.error());
    mux = std::move(*m);
    if (auto hello = mux->wait_ready(60s); !hello) return "the guest relay: " + rdpmux::to_string(hello.error());
    auto r = viewer::SurfaceReceiver::create(guest.bus().bus(), sink);
    if (!r) return "surface receiver: " + r.error();
    receiver = std::move(*r);
    receiver->set_pass_on([this](std::uint32_t channel) { mux->pass_on_shared_wakeup(channel); });
    auto conn = mux->open(rdpmux::Target::tcp(QemuSurfaceGuest::kGuestPort), {.framed = true, .timeout = 60s});
    if (!conn) return "open through the relay: " + rdpmux::to_string(conn.error());
    int sp[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) return "socketpair";
    auto b = rh::ConnectionBridge::start(std::move(*conn), ringbus::UniqueFd(sp[1]));
    if (!b) return "bridge: " + rh::to_string(b.error());
    bridge = std::move(*b);
    rh::ClientConfig config;
    config.security = rh::Security::kRdp;
    config.program.clear();  // the application runs already: no Client Execute
    config.width = ss::kDesktopWidth;
    config.height = ss::kDesktopHeight;
    auto c = rh::RdpClient::start(config, ringbus::UniqueFd(sp[0]), rdp_sink, rdp_sink);
    if (!c) return "client: " + rh::to_string(c.error());
    client = std::move(*c);
    if (auto up = client->wait_connected(120s); !up) return "connect: " + rh::to_string(up.error());
    return {};
  }

  // The UI loop until `done()`: surface records and control messages, looking every millisecond
  // at most (a doorbell that rings wakes it sooner).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      pollfd p{receiver->wake_fd(), POLLIN, 0};
      if (p.fd >= 0 && ::poll(&p, 1, 1) > 0) receiver->woke();
      if (p.fd < 0) ::poll(nullptr, 0, 1);
      receiver->poll();
      mux->poll();
    }
    return true;
  }

  ~Host() {
    if (client) client->stop();
    bridge.reset();
    receiver.reset();
    mux.reset();
  }
};

TEST(QemuSurfaceTest, shouldShowAGuestWindowThroughTheSurfacePoolOverIvshmem) {
  if (!have_qemu()) GTEST_SKIP() << "qemu-system-x86_64 not installed";
  const auto t0 = Clock::now();
  auto guest = QemuSurfaceGuest::create();
  if (!guest && guest.error().starts_with("no guest image")) GTEST_SKIP() << guest.error().substr(0, 2000);
  ASSERT_TRUE(guest.has_value()) << guest.error();
  QemuSurfaceGuest& g = **guest;
  std::printf("guest up in %.1f s (window 0x%x)\n", g.boot_seconds(), g.window());

  CheckingSink sink(g.window());
  Host host;
  {
    const auto t = Clock::now();
    const std::string e = host.start(g, sink);
    ASSERT_TRUE(e.empty()) << e << "\n" << g.logs();
    std::printf("RemoteApp over the bus connected in %.1f s\n", std::chrono::duration<double>(Clock::now() - t).count());
  }

  // 1. The first paint, made before the host came: the surface's first Present.
  ASSERT_TRUE(host.run_until([&] { return sink.stamp() == ss::kFirstStamp; }, 120s))
      << "the first paint never reached the host (attached " << sink.attached_ << ", presents " << sink.presents_
      << ", stamp " << std::hex << sink.stamp() << ")\n" << g.logs();
  EXPECT_EQ(sink.width_, std::uint32_t(ss::kSide));
  EXPECT_EQ(sink.height_, std::uint32_t(ss::kSide));
  EXPECT_EQ(sink.mismatch(0, ss::kFirstStamp), "");

  // 2. Input to paint: RemoteApp input through the bus, XTest in the guest, one paint (slot 1).
  const int px = 10, py = 20;
  host.client->mouse_move({ss::kWindowX + px, ss::kWindowY + py});
  const auto t_input = Clock::now();
  ASSERT_TRUE(host.run_until([&] { return sink.stamp() == ss::probe_stamp(px, py); }, 60s))
      << "no Present for the input\n" << g.logs();
  std::printf("input to surface paint: %.0f ms\n", std::chrono::duration<double, std::milli>(Clock::now() - t_input).count());
  EXPECT_EQ(sink.mismatch(1, ss::probe_stamp(px, py)), "");

  // 3. A batch of kBatch paints (slots 2..9 mod 8): its last one arrives whole.
  const int bx = 5, by = ss::kTriggerTop + 3;
  host.client->mouse_move({ss::kWindowX + bx, ss::kWindowY + by});
  const std::uint32_t last = ss::batch_stamp(bx, by, ss::kBatch - 1);
  ASSERT_TRUE(host.run_until([&] { return sink.stamp() == last; }, 60s)) << "the batch's last paint\n" << g.logs();
  EXPECT_EQ(sink.mismatch((2 + ss::kBatch - 1) % ss::kSlots, last), "");

  const viewer::SurfaceCounters rc = host.receiver->counters();
  EXPECT_GE(rc.creates, 1u);
  EXPECT_GE(sink.presents_, 3);
  // RDP may paint the desktop around it (the sandbox cases see 0 or 1 paint), never the window.
  const auto [rdp_rects, over_window] = host.rdp_sink.counts();
  EXPECT_EQ(over_window, 0) << "the window's pixels went over RDP too (" << rdp_rects << " RDP rectangles)";
  EXPECT_EQ(rc.faults, 0u);
  EXPECT_EQ(rc.dropped, 0u);
  EXPECT_EQ(sink.detached_, 0);

  // The session ends: the appserver logs its counters. Zero-copy (the guest X server wrote the
  // BAR) or the fallback (one copy in user space, counted): both are the product working.
  const std::size_t lines_before = g.copies_lines();
  host.client->stop();
  const auto zero_copy = g.zero_copy_logged();
  ASSERT_TRUE(zero_copy.has_value()) << "the appserver never said how it reads surfaces\n" << g.logs();
  const auto until = Clock::now() + 60s;
  while (g.copies_lines() == lines_before && Clock::now() < until) std::this_thread::sleep_for(100ms);
  std::printf("the appserver logged its counters %.1f s after the session's end\n",
              std::chrono::duration<double>(Clock::now() - (until - 60s)).count());
  const auto copies = g.last_copies();
  ASSERT_TRUE(copies.has_value()) << "no surface counters from the appserver\n" << g.logs();
  EXPECT_GT(copies->bytes_presented, 0);
  if (*zero_copy) {
    EXPECT_EQ(copies->bytes_copied, 0) << "zero-copy, yet the appserver copied";
    EXPECT_GE(copies->bytes_written, copies->bytes_presented);
  } else {
    EXPECT_GE(copies->bytes_copied, copies->bytes_presented) << "the fallback copies every presented byte";
  }
  std::printf("guest X server attached the ivshmem BAR: %s; %.0f presents, %.0f bytes presented, %.0f written by "
              "the X server, %.0f copied in user space; host: %llu presents, %llu bytes\n",
              *zero_copy ? "yes (zero-copy true)" : "no (zero-copy false: one counted copy)", copies->presents,
              copies->bytes_presented, copies->bytes_written, copies->bytes_copied,
              static_cast<unsigned long long>(rc.presents), static_cast<unsigned long long>(rc.bytes_presented));
  ::testing::Test::RecordProperty("zero_copy", *zero_copy ? "true" : "false");
  ::testing::Test::RecordProperty("boot_s", std::to_string(g.boot_seconds()));
  std::printf("test body %.1f s\n", std::chrono::duration<double>(Clock::now() - t0).count());
}

}  // namespace
}  // namespace vitrine::hv::test
