// RemoteDisplay without a guest: a thread plays FreeRDP's session thread (framebuffer, paints,
// window orders) while the test thread is the UI thread; the headless compositor's read-back
// and the PNG screenshots must show exactly the framebuffer pixels at each window's place.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "remote_display.hpp"
#include "test_dir.hpp"
#include "vitrine/catalog/png_image.hpp"

namespace vitrine::cli {
namespace {

using namespace std::chrono_literals;
namespace rh = rdpmux::host;

class RemoteDisplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RemoteDisplayOptions o;
    o.headless = true;
    o.screenshot_dir = dir_.path() / "shots";
    o.screenshot_quiet = 0ms;
    auto d = RemoteDisplay::create(o);
    if (!d) GTEST_SKIP() << "no off-screen GL (Mesa EGL surfaceless): " << d.error();
    display_ = std::move(*d);
  }

  // Runs `session` on its own thread while this (UI) thread dispatches, as `vitrine run` does.
  void as_session(const std::function<void()>& session) {
    std::atomic<bool> done{false};
    std::thread t([&] {
      session();
      done = true;
    });
    while (!done) {
      display_->dispatch();
      std::this_thread::sleep_for(1ms);
    }
    t.join();
    display_->dispatch();
  }

  static rh::WindowState window(rh::WindowId id, const std::string& title, rh::DesktopRect frame) {
    rh::WindowState s;
    s.id = id;
    s.title = title;
    s.frame = frame;
    s.show = rh::ShowState::kNormal;
    s.style = rh::style::kCaption;
    return s;
  }

  // A BGRX framebuffer whose every pixel encodes its coordinates.
  void paint(std::span<std::byte> fb, std::uint32_t width, std::uint32_t height, std::uint8_t salt) {
    for (std::uint32_t y = 0; y < height; ++y)
      for (std::uint32_t x = 0; x < width; ++x) {
        std::byte* p = &fb[(static_cast<std::size_t>(y) * width + x) * 4];
        p[0] = static_cast<std::byte>(x * 7 + salt);
        p[1] = static_cast<std::byte>(y * 5);
        p[2] = static_cast<std::byte>((x ^ y) + salt);
        p[3] = std::byte{0xff};
      }
  }

  test::TempDir dir_;
  std::unique_ptr<RemoteDisplay> display_;
};

TEST_F(RemoteDisplayTest, WindowsShowTheFramebufferAtTheirPlace) {
  constexpr std::uint32_t kW = 320, kH = 240;
  std::span<std::byte> fb;
  as_session([&] {
    fb = display_->provide_framebuffer(kW, kH, kW * 4);
    ASSERT_EQ(fb.size(), static_cast<std::size_t>(kW) * kH * 4);
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(fb.data()) % 16, 0u);
    paint(fb, kW, kH, 0);
    const rh::FramebufferView view{fb.data(), kW, kH, kW * 4};
    display_->framebuffer_changed(view);
    display_->window_created(window(1, "left", {10, 20, 100, 80}));
    display_->window_created(window(2, "right", {150, 40, 120, 100}));
    const rh::DesktopRect all{0, 0, kW, kH};
    display_->damaged(view, std::span(&all, 1));
  });
  auto shots = display_->write_screenshots(dir_.path() / "now");
  ASSERT_TRUE(shots) << shots.error();
  ASSERT_EQ(shots->size(), 2u);
  const auto windows = display_->windows();
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_EQ(windows[0].title, "left");
  EXPECT_EQ(windows[1].frame, (rh::DesktopRect{150, 40, 120, 100}));

  for (const auto& file : *shots) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string data = bytes.str();
    auto img = catalog::decode_png(std::as_bytes(std::span(data.data(), data.size())), 4096);
    ASSERT_TRUE(img) << file;
    const bool left = file.filename().string().find("left") != std::string::npos;
    const rh::DesktopRect r = left ? rh::DesktopRect{10, 20, 100, 80} : rh::DesktopRect{150, 40, 120, 100};
    ASSERT_EQ(img->width, r.width);
    ASSERT_EQ(img->height, r.height);
    std::size_t diff = 0;
    for (std::uint32_t y = 0; y < r.height; ++y)
      for (std::uint32_t x = 0; x < r.width; ++x) {
        const std::byte* f = &fb[((r.y + y) * kW + (r.x + x)) * 4];
        const std::uint8_t* p = &img->pixels[(y * r.width + x) * 4];
        if (p[0] != std::to_integer<std::uint8_t>(f[2]) || p[1] != std::to_integer<std::uint8_t>(f[1]) ||
            p[2] != std::to_integer<std::uint8_t>(f[0]))
          ++diff;
      }
    EXPECT_EQ(diff, 0u) << file;
  }
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "now" / "windows.json"));
}

TEST_F(RemoteDisplayTest, PaintsMoveAndDeleteFollowTheSession) {
  constexpr std::uint32_t kW = 200, kH = 150;
  std::span<std::byte> fb;
  rh::FramebufferView view;
  as_session([&] {
    fb = display_->provide_framebuffer(kW, kH, kW * 4);
    paint(fb, kW, kH, 0);
    view = {fb.data(), kW, kH, kW * 4};
    display_->framebuffer_changed(view);
    display_->window_created(window(5, "w", {0, 0, 50, 50}));
    const rh::DesktopRect all{0, 0, kW, kH};
    display_->damaged(view, std::span(&all, 1));
    // A paint of part of the window, then a move and a hide.
    paint(fb, kW, kH, 99);
    const rh::DesktopRect part{0, 0, 20, 20};
    display_->damaged(view, std::span(&part, 1));
    auto moved = window(5, "w", {60, 60, 50, 50});
    display_->window_changed(moved, rh::changed::kFramePosition);
  });
  auto shots = display_->write_screenshots(dir_.path() / "a");
  ASSERT_TRUE(shots) << shots.error();
  EXPECT_EQ(display_->windows().at(0).frame.x, 60);
  EXPECT_EQ(display_->stats().paints, 2u);

  as_session([&] {
    auto hidden = window(5, "w", {60, 60, 50, 50});
    hidden.show = rh::ShowState::kHidden;
    display_->window_changed(hidden, rh::changed::kShow);
  });
  auto none = display_->write_screenshots(dir_.path() / "b");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty()) << "a hidden window has no screenshot";

  as_session([&] { display_->window_deleted(5); });
  EXPECT_TRUE(display_->windows().empty());
}

TEST_F(RemoteDisplayTest, BadWindowOrdersAreRefusedNotFatal) {
  as_session([&] {
    auto fb = display_->provide_framebuffer(64, 64, 256);
    display_->framebuffer_changed({fb.data(), 64, 64, 256});
    display_->window_created(window(7, "zero", {0, 0, 0, 0}));          // no size yet
    display_->window_created(window(8, "huge", {0, 0, 1u << 30, 10}));  // beyond any texture
    display_->window_changed(window(99, "unknown", {0, 0, 10, 10}), rh::changed::kTitle);  // never created
    display_->window_deleted(12345);
    const rh::WindowId z[] = {8, 7, 4242};
    display_->z_order_changed(z);
    display_->active_window_changed(4242);
  });
  EXPECT_EQ(display_->stats().callback_timeouts, 0u);
  auto shots = display_->write_screenshots(dir_.path() / "c");
  EXPECT_TRUE(shots) << shots.error();
}

TEST_F(RemoteDisplayTest, ShutdownReleasesAWaitingSessionThread) {
  std::atomic<bool> returned{false};
  std::thread session([&] {
    auto fb = display_->provide_framebuffer(16, 16, 64);  // nobody dispatches: it waits
    (void)fb;
    returned = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(returned);
  display_->shutdown();
  session.join();
  EXPECT_TRUE(returned);
  // Later callbacks return at once.
  const rh::DesktopRect r{0, 0, 1, 1};
  display_->damaged({}, std::span(&r, 1));
}

}  // namespace
}  // namespace vitrine::cli
