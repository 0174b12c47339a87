// The guest producer of window surfaces against the real host receiver: a real Xvfb and an X
// client paint, vitrine-appserver's SurfacePublisher has the X server write the pixels into the
// bus's pool, viewer::SurfaceReceiver reads the Presents. Pixel-exact against the X server's
// own view of the window; the buffer hand-over (the guest never writes a buffer the host holds),
// a resize, a host that drops the surface (the window goes back to RDP) and a new host session.
#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include "surface/surface_publisher.hpp"

#include <X11/Xutil.h>
#include <X11/extensions/Xcomposite.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "support/xvfb.hpp"
#include "vitrine/rdpmux/surface_codec.hpp"
#include "vitrine/relay/bus_attach.hpp"
#include "vitrine/viewer/surface_receiver.hpp"
#include "x11/x11_capture.hpp"

namespace vitrine::appserver::surface {
namespace {

using testing::Xvfb;

// What the host texture of each window would hold.
struct TextureSink final : viewer::SurfaceSink {
  struct Texture {
    std::uint32_t width = 0, height = 0;
    std::vector<std::byte> pixels;
    std::uint64_t frames = 0;
  };
  std::map<std::uint32_t, Texture> textures;

  bool surface_attached(std::uint32_t window, std::uint32_t w, std::uint32_t h) override {
    auto& t = textures[window];
    t.width = w;
    t.height = h;
    t.pixels.assign(std::size_t{w} * h * 4, std::byte{0});
    return true;
  }
  void surface_presented(std::uint32_t window, const viewer::SurfaceFrame& f) override {
    auto& t = textures.at(window);
    for (const auto& r : f.rects)
      for (std::int32_t y = r.y; y < r.y + r.height; ++y)
        std::memcpy(t.pixels.data() + (std::size_t(y) * t.width + std::size_t(r.x)) * 4,
                    f.pixels + std::size_t(y) * f.stride + std::size_t(r.x) * 4, std::size_t(r.width) * 4);
    ++t.frames;
  }
  void surface_detached(std::uint32_t window) override { textures.erase(window); }
};

// `drawable`'s pixels in [x0, x0 + w) x [y0, y0 + h) as the X server has them, BGRX like the
// surface (X zeroed); zeros where the server refused.
std::vector<std::byte> read_bgrx(Display* dpy, Drawable drawable, int x0, int y0, int w, int h) {
  std::vector<std::byte> out(std::size_t(w) * std::size_t(h) * 4);
  XImage* img = XGetImage(dpy, drawable, x0, y0, unsigned(w), unsigned(h), AllPlanes, ZPixmap);
  if (img == nullptr) return out;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const std::uint32_t px = std::uint32_t(XGetPixel(img, x, y));
      std::byte* o = &out[(std::size_t(y) * std::size_t(w) + std::size_t(x)) * 4];
      o[0] = std::byte(px & 0xFF);
      o[1] = std::byte((px >> 8) & 0xFF);
      o[2] = std::byte((px >> 16) & 0xFF);
    }
  XDestroyImage(img);
  return out;
}

class SurfacePublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    xvfb_ = Xvfb::start(640, 480);
    if (!xvfb_) GTEST_SKIP() << "Xvfb not available (xvfb)";
    auto c = x11::X11Capture::open({xvfb_->display(), true, true});
    ASSERT_TRUE(c) << c.error();
    capture_ = std::move(*c);
    app_ = xvfb_->connection();

    ringbus::BusConfig config = ringbus::BusConfig::uniform(2, 16, 16);
    config.surface_pool_bytes = 16u << 20;
    auto host = ringbus::Bus::create(config);
    ASSERT_TRUE(host) << ringbus::to_string(host.error());
    host_ = std::make_unique<ringbus::Bus>(std::move(*host));
    // The guest's own mapping through its own fd, as the appserver gets it (--bus-fd), and one
    // more fd for the X server to attach (MIT-SHM with an fd).
    auto guest = relay::attach_inherited(::fcntl(host_->fd(), F_DUPFD_CLOEXEC, 3), {});
    ASSERT_TRUE(guest) << rdpmux::to_string(guest.error());
    x_fd_ = ::fcntl(host_->fd(), F_DUPFD_CLOEXEC, 3);
    auto p = SurfacePublisher::create(std::move(*guest), x_fd_, *capture_);
    ASSERT_TRUE(p) << p.error();
    publisher_ = std::move(*p);
    start_host();
  }
  void TearDown() override {
    if (x_fd_ >= 0) ::close(x_fd_);
  }

  void start_host() {
    receiver_.reset();
    auto r = viewer::SurfaceReceiver::create(*host_, sink_);
    ASSERT_TRUE(r) << r.error();
    receiver_ = std::move(*r);
  }

  // One turn of the appserver's loop and of the host's, as in the product.
  void turn(bool host_reads = true) {
    XSync(app_, False);
    capture_->pump();
    publisher_->sync();
    if (host_reads)
      while (receiver_->poll()) {
      }
  }
  bool turn_until(const std::function<bool()>& done, bool host_reads = true) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      turn(host_reads);
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  Window make_window(int w, int h, int x = 20, int y = 30) {
    XSetWindowAttributes a{};
    a.background_pixel = 0x204060;
    const Window win = XCreateWindow(app_, DefaultRootWindow(app_), x, y, unsigned(w), unsigned(h), 0,
                                     CopyFromParent, InputOutput, CopyFromParent, CWBackPixel, &a);
    XMapWindow(app_, win);
    XSync(app_, False);
    return win;
  }

  // Random rectangles of random colours, edges and single pixels included.
  void scribble(Window win, int w, int h, std::mt19937& rng, int count) {
    GC gc = XCreateGC(app_, win, 0, nullptr);
    for (int i = 0; i < count; ++i) {
      XSetForeground(app_, gc, rng() & 0xFFFFFF);
      const int x = int(rng() % unsigned(w)), y = int(rng() % unsigned(h));
      const int rw = i % 7 == 0 ? 1 : 1 + int(rng() % unsigned(w - x));
      const int rh = i % 5 == 0 ? 1 : 1 + int(rng() % unsigned(h - y));
      XFillRectangle(app_, win, gc, x, y, unsigned(rw), unsigned(rh));
    }
    XFreeGC(app_, gc);
    XSync(app_, False);
  }

  // The window's pixels as the X server has them, BGRX like the surface.
  std::vector<std::byte> x_pixels(Window win, int w, int h, int x0 = 0, int y0 = 0) {
    return read_bgrx(app_, win, x0, y0, w, h);
  }
  // Pixels that differ, X ignored.
  static std::size_t differences(const std::vector<std::byte>& a, const std::vector<std::byte>& b) {
    if (a.size() != b.size()) return std::max(a.size(), b.size()) / 4;
    std::size_t n = 0;
    for (std::size_t i = 0; i < a.size(); i += 4)
      if (std::memcmp(&a[i], &b[i], 3) != 0) ++n;
    return n;
  }
  bool texture_matches(Window win, int w, int h) {
    auto it = sink_.textures.find(std::uint32_t(win));
    if (it == sink_.textures.end() || it->second.width != std::uint32_t(w) || it->second.height != std::uint32_t(h))
      return false;
    return differences(it->second.pixels, x_pixels(win, w, h)) == 0;
  }
  std::vector<std::byte> pool_copy() {
    auto pool = host_->surface_bytes(0, host_->surface_pool_size());
    return {pool->begin(), pool->end()};
  }

  std::unique_ptr<Xvfb> xvfb_;
  std::unique_ptr<x11::X11Capture> capture_;
  Display* app_ = nullptr;
  std::unique_ptr<ringbus::Bus> host_;
  int x_fd_ = -1;
  std::unique_ptr<SurfacePublisher> publisher_;
  TextureSink sink_;
  std::unique_ptr<viewer::SurfaceReceiver> receiver_;
};

TEST_F(SurfacePublisherTest, theXServerWritesTheWindowIntoThePoolPixelExact) {
  constexpr int kW = 150, kH = 90;
  const Window win = make_window(kW, kH);
  std::mt19937 rng(1);
  ASSERT_TRUE(turn_until([&] { return publisher_->covers(win); }));
  for (int round = 0; round < 20; ++round) {
    scribble(win, kW, kH, rng, 1 + round % 9);
    ASSERT_TRUE(turn_until([&] { return texture_matches(win, kW, kH); })) << "round " << round;
  }
  EXPECT_TRUE(publisher_->zero_copy()) << "Xvfb attaches the bus file itself";
  EXPECT_EQ(publisher_->stats().bytes_copied, 0u);
  EXPECT_GT(publisher_->stats().bytes_read, 0u);
  EXPECT_EQ(receiver_->counters().faults, 0u);
}

// Double buffering: while the host holds both buffers, the guest writes no byte of the pool;
// its damage accumulates and reaches the host once a buffer is back.
TEST_F(SurfacePublisherTest, aBufferTheHostHoldsIsNeverWritten) {
  constexpr int kW = 120, kH = 80;
  const Window win = make_window(kW, kH);
  std::mt19937 rng(2);
  ASSERT_TRUE(turn_until([&] { return texture_matches(win, kW, kH); }));
  const auto presents_before = publisher_->stats().presents;
  // The host stops reading: two more frames take both buffers.
  for (int i = 0; i < 2; ++i) {
    scribble(win, kW, kH, rng, 3);
    ASSERT_TRUE(turn_until([&] { return publisher_->stats().presents == presents_before + std::uint64_t(i) + 1; },
                           false));
  }
  const auto held = pool_copy();
  for (int i = 0; i < 5; ++i) {
    scribble(win, kW, kH, rng, 4);
    turn(false);
  }
  EXPECT_EQ(publisher_->stats().presents, presents_before + 2) << "no buffer was free";
  EXPECT_GT(publisher_->stats().waits_for_buffer, 0u);
  EXPECT_TRUE(held == pool_copy()) << "the guest wrote into memory the host held";
  // The host reads again: Released comes back and the accumulated damage is presented.
  ASSERT_TRUE(turn_until([&] { return texture_matches(win, kW, kH); }));
}

TEST_F(SurfacePublisherTest, aResizedWindowGetsANewSurfaceGeometry) {
  const Window win = make_window(100, 60);
  std::mt19937 rng(3);
  ASSERT_TRUE(turn_until([&] { return texture_matches(win, 100, 60); }));
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{233, 97}, {41, 17}, {300, 200}}) {
    XResizeWindow(app_, win, unsigned(w), unsigned(h));
    scribble(win, w, h, rng, 6);
    ASSERT_TRUE(turn_until([&] { return texture_matches(win, w, h); })) << w << "x" << h;
  }
  EXPECT_GE(receiver_->counters().resizes, 3u);
  EXPECT_EQ(receiver_->counters().faults, 0u);
}

// The window's own content, also where it is covered or off the screen: its composite pixmap
// (the appserver redirects every top-level automatically), BGRX like the surface.
std::vector<std::byte> own_pixels(Display* dpy, Window win, int w, int h) {
  const Pixmap pixmap = XCompositeNameWindowPixmap(dpy, win);
  auto out = read_bgrx(dpy, pixmap, 0, 0, w, h);
  XFreePixmap(dpy, pixmap);
  return out;
}

// A window partly off the screen, and one under another window: the X server keeps their
// content in their composite pixmaps, which the appserver reads, so the host shows all of it
// (a host screen may show what the guest's cannot). It once stayed black off the screen:
// GetImage of the window refuses off-screen parts.
TEST_F(SurfacePublisherTest, aWindowPartlyOffTheScreenOrCoveredShowsAllOfItsContent) {
  constexpr int kW = 100, kH = 80;
  const Window off = make_window(kW, kH, 600, 440);  // on a 640x480 screen: 40x40 visible
  const Window under = make_window(kW, kH, 100, 100);
  const Window over = make_window(kW, kH, 150, 130);  // covers under's lower right part
  std::mt19937 rng(5);
  const auto all_match = [&] {
    for (const Window w : {off, under, over}) {
      auto it = sink_.textures.find(std::uint32_t(w));
      if (it == sink_.textures.end() || differences(it->second.pixels, own_pixels(app_, w, kW, kH)) != 0) return false;
    }
    return true;
  };
  for (int round = 0; round < 6; ++round) {
    scribble(off, kW, kH, rng, 4);
    scribble(under, kW, kH, rng, 4);
    scribble(over, kW, kH, rng, 2);
    ASSERT_TRUE(turn_until(all_match)) << "round " << round;
  }
  EXPECT_TRUE(publisher_->covers(off));
  EXPECT_TRUE(publisher_->covers(under));
  EXPECT_EQ(publisher_->stats().bytes_copied, 0u) << "the X server wrote every byte";
}

// The host refuses the surface (here: Dropped as the receiver sends it on a fault): the window
// goes back to RDP pixels and stays there; a new host session (HostReady) publishes afresh.
TEST_F(SurfacePublisherTest, aDroppedSurfaceGoesBackToRdpUntilTheNextHostSession) {
  const Window win = make_window(64, 64);
  ASSERT_TRUE(turn_until([&] { return texture_matches(win, 64, 64); }));
  // The publisher numbers its surfaces from 1: this window's is the only one.
  ASSERT_EQ(publisher_->stats().creates, 1u);
  const rdpmux::SurfaceDroppedMsg dropped{1, rdpmux::kDropMalformed};
  ASSERT_TRUE(*rdpmux::send_surface_dropped(host_->channel(host_->surface_channel()).tx(), dropped));
  ASSERT_TRUE(turn_until([&] { return !publisher_->covers(win); }, false));
  EXPECT_EQ(publisher_->stats().dropped, 1u);
  turn(false);
  EXPECT_FALSE(publisher_->covers(win)) << "a dropped window is not offered again in the same session";

  sink_.textures.clear();
  start_host();  // a new receiver: HostReady with a new session
  std::mt19937 rng(4);
  scribble(win, 64, 64, rng, 5);
  ASSERT_TRUE(turn_until([&] { return publisher_->covers(win) && texture_matches(win, 64, 64); }));
  EXPECT_EQ(publisher_->stats().host_sessions, 2u);
}

}  // namespace
}  // namespace vitrine::appserver::surface
