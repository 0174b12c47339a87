// The window pixel budget (CompositorConfig::max_window_pixels, issue 17 item 4): what the host
// allocates for windows (HeadlessBackend's renderbuffers, counted by the backend itself) stays
// within the budget however many and however large the windows a guest asks for; windows that do
// not fit wait in the scene and get their drawable when pixels are freed.
#include <gtest/gtest.h>

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "headless_fixture.hpp"

namespace vitrine::compositor {
namespace {

using testing::Framebuffer;
using testing::Headless;
using testing::make_headless;

WindowDesc window_at(DesktopRect r) {
  WindowDesc d;
  d.rect = r;
  return d;
}

class WindowBudget : public ::testing::Test {
 protected:
  void start(std::uint64_t budget) {
    CompositorConfig config;
    config.max_window_pixels = budget;
    std::string why;
    h_ = make_headless(config, why);
    if (!h_.compositor) GTEST_SKIP() << "no off-screen GL (Mesa EGL surfaceless): " << why;
  }
  Compositor& comp() { return *h_.compositor; }
  HeadlessBackend& backend() { return *h_.backend; }

  Headless h_;
};

TEST_F(WindowBudget, WindowsPastTheBudgetGetNoDrawableUntilOthersClose) {
  start(10'000);  // four 50x50 windows
  if (HasFatalFailure() || IsSkipped()) return;
  for (WindowId id = 1; id <= 10; ++id)
    ASSERT_TRUE(comp().create_window(id, window_at({static_cast<std::int32_t>(id) * 10, 0, 50, 50})));
  EXPECT_EQ(comp().scene().size(), 10u) << "parked windows stay in the scene";
  EXPECT_EQ(backend().drawables(), 4u);
  EXPECT_EQ(backend().drawable_pixels(), 10'000u);
  EXPECT_EQ(comp().window_pixels(), backend().drawable_pixels());
  EXPECT_EQ(comp().stats().over_budget, 6u);
  EXPECT_EQ(comp().stats().windows_parked, 6u);
  for (WindowId id = 1; id <= 4; ++id) EXPECT_FALSE(comp().over_budget(id)) << id;
  for (WindowId id = 5; id <= 10; ++id) EXPECT_TRUE(comp().parked(id)) << id;

  // A parked window takes every change and is never drawn.
  EXPECT_TRUE(comp().set_title(7, "parked"));
  EXPECT_TRUE(comp().set_rect(7, {5, 5, 60, 40}));
  EXPECT_TRUE(comp().set_visible(7, true));
  EXPECT_TRUE(comp().activate(7));
  std::mt19937 rng(17);
  Framebuffer fb(200, 100);
  fb.randomize(rng);
  auto r = comp().present(fb.view());
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->windows_presented, 4u);
  EXPECT_FALSE(backend().read_back(7)) << "no renderbuffer for a parked window";

  // Two closed windows make room for two waiting ones, the topmost first: 7 was raised (activate),
  // then 10 is the highest in the stacking order.
  ASSERT_TRUE(comp().destroy_window(1));
  ASSERT_TRUE(comp().destroy_window(2));
  EXPECT_TRUE(comp().over_budget(7)) << "until the driver let the closed windows' drawables go";
  comp().finish();
  EXPECT_TRUE(comp().retire_freed());
  EXPECT_FALSE(comp().over_budget(7));
  EXPECT_FALSE(comp().over_budget(10));
  EXPECT_TRUE(comp().parked(9));
  EXPECT_EQ(backend().drawables(), 4u);
  EXPECT_LE(backend().drawable_pixels(), 10'000u);
  EXPECT_EQ(comp().window_pixels(), backend().drawable_pixels());
  r = comp().present(fb.view());
  ASSERT_TRUE(r) << to_string(r.error());
  auto shown = backend().read_back(7);
  ASSERT_TRUE(shown) << "an admitted window is drawn at its latest rectangle";
  EXPECT_EQ(shown->width, 60);
  EXPECT_EQ(shown->height, 40);
  EXPECT_EQ(shown->pixels, crop(fb.view(), {5, 5, 60, 40}).pixels);

  // Closing a parked window frees nothing and costs nothing.
  ASSERT_TRUE(comp().destroy_window(9));
  EXPECT_EQ(comp().stats().windows_parked, 3u);
}

TEST_F(WindowBudget, AResizePastTheBudgetMovesButKeepsTheOldSizeUntilPixelsAreFreed) {
  start(10'000);
  if (HasFatalFailure() || IsSkipped()) return;
  ASSERT_TRUE(comp().create_window(1, window_at({0, 0, 50, 50})));   // 2500
  ASSERT_TRUE(comp().create_window(2, window_at({0, 0, 50, 100})));  // 5000
  ASSERT_TRUE(comp().set_rect(1, {10, 20, 100, 100}));              // +7500: does not fit
  EXPECT_EQ(comp().scene().find(1)->desc.rect, (DesktopRect{10, 20, 50, 50}));
  EXPECT_TRUE(comp().over_budget(1));
  EXPECT_EQ(comp().stats().over_budget, 1u);
  EXPECT_EQ(backend().drawable_pixels(), 7500u);

  std::mt19937 rng(4);
  Framebuffer fb(160, 160);
  fb.randomize(rng);
  ASSERT_TRUE(comp().present(fb.view()));
  auto img = backend().read_back(1);
  ASSERT_TRUE(img);
  EXPECT_EQ(img->pixels, crop(fb.view(), {10, 20, 50, 50}).pixels);

  // A shrink of the other window is not enough (5000 - 2500 + 10000 > 10000); closing it is.
  ASSERT_TRUE(comp().set_rect(2, {0, 0, 50, 50}));
  EXPECT_TRUE(comp().over_budget(1));
  ASSERT_TRUE(comp().destroy_window(2));
  comp().finish();
  EXPECT_TRUE(comp().retire_freed());
  EXPECT_FALSE(comp().over_budget(1));
  EXPECT_EQ(comp().scene().find(1)->desc.rect, (DesktopRect{10, 20, 100, 100}));
  EXPECT_EQ(backend().drawable_pixels(), 10'000u);
  ASSERT_TRUE(comp().present(fb.view()));
  img = backend().read_back(1);
  ASSERT_TRUE(img);
  EXPECT_EQ(img->pixels, crop(fb.view(), {10, 20, 100, 100}).pixels);

  // A resize that fits clears a deferred one.
  ASSERT_TRUE(comp().create_window(3, window_at({0, 0, 1, 1})));
  ASSERT_TRUE(comp().set_rect(1, {0, 0, 100, 101}));
  EXPECT_TRUE(comp().over_budget(1));
  ASSERT_TRUE(comp().set_rect(1, {0, 0, 90, 90}));
  EXPECT_FALSE(comp().over_budget(1));
  EXPECT_EQ(backend().drawable_pixels(), 8100u) << "the 100x100 drawable is retiring: window 3 waits";
  comp().finish();
  EXPECT_TRUE(comp().retire_freed());
  EXPECT_EQ(backend().drawable_pixels(), 8101u);
}

// The flood: as many 16384x16384 windows as the scene takes. Without the budget each
// one is a 1 GiB renderbuffer; with it none is allocated, and a normal window still shows.
TEST_F(WindowBudget, AFloodOfHugeWindowsAllocatesNothing) {
  start(4ull * 1280 * 800);
  if (HasFatalFailure() || IsSkipped()) return;
  ASSERT_TRUE(comp().create_window(1, window_at({0, 0, 640, 480})));
  std::size_t created = 1;
  for (WindowId id = 2; id <= 4096; ++id)
    if (comp().create_window(id, window_at({0, 0, Scene::kMaxWindowSize, Scene::kMaxWindowSize}))) ++created;
  EXPECT_EQ(created, Scene::kMaxWindows);
  EXPECT_EQ(backend().drawables(), 1u);
  EXPECT_EQ(backend().drawable_pixels(), 640u * 480u);
  EXPECT_EQ(comp().stats().over_budget, Scene::kMaxWindows - 1);
  // Growing the one drawn window to the maximum is deferred too.
  ASSERT_TRUE(comp().set_rect(1, {0, 0, Scene::kMaxWindowSize, Scene::kMaxWindowSize}));
  EXPECT_EQ(backend().drawable_pixels(), 640u * 480u);
  Framebuffer fb(64, 64);
  auto r = comp().present(fb.view());
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->windows_presented, 1u);
}

TEST_F(WindowBudget, ALoweredBudgetTakesNothingBackAndARaisedOneAdmitsWaitingWindows) {
  start(5000);
  if (HasFatalFailure() || IsSkipped()) return;
  ASSERT_TRUE(comp().create_window(1, window_at({0, 0, 50, 50})));
  ASSERT_TRUE(comp().create_window(2, window_at({0, 0, 50, 50})));
  comp().set_window_pixel_budget(1000);
  EXPECT_EQ(backend().drawables(), 2u) << "pixels in use are not taken back";
  ASSERT_TRUE(comp().create_window(3, window_at({0, 0, 10, 10})));
  EXPECT_TRUE(comp().parked(3)) << "but nothing new is given while above the budget";
  comp().set_window_pixel_budget(0);  // no budget
  EXPECT_FALSE(comp().parked(3));
  EXPECT_EQ(backend().drawables(), 3u);
  EXPECT_EQ(comp().stats().window_pixel_budget, 0u);
}

}  // namespace
}  // namespace vitrine::compositor

namespace vitrine::compositor {
namespace {

// Bytes the process's allocator has handed out and not got back (glibc; 0 where the allocator
// is another one: ASan's, mimalloc).
std::size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// Mesa keeps a deleted renderbuffer alive until the batches that used it ran: deleted drawables
// count against the budget until a fence after their deletion signals, so room comes back at the
// first retire_freed() (once per UI turn) after the driver caught up, never before.
TEST_F(WindowBudget, AClosedWindowsPixelsCountUntilTheDriverLetsThemGo) {
  start(10'000);
  if (HasFatalFailure() || IsSkipped()) return;
  for (WindowId id = 1; id <= 4; ++id) ASSERT_TRUE(comp().create_window(id, window_at({0, 0, 50, 50})));
  ASSERT_TRUE(comp().destroy_window(1));
  EXPECT_EQ(comp().window_pixels(), 7500u);
  EXPECT_EQ(comp().retiring_pixels(), 2500u);
  ASSERT_TRUE(comp().create_window(5, window_at({0, 0, 50, 50})));
  EXPECT_TRUE(comp().parked(5)) << "the driver may still hold window 1's drawable";
  comp().finish();
  EXPECT_TRUE(comp().retire_freed()) << "window 5 admitted";
  EXPECT_FALSE(comp().parked(5));
  EXPECT_EQ(comp().retiring_pixels(), 0u);
  EXPECT_EQ(backend().drawable_pixels(), 10'000u);
  EXPECT_FALSE(comp().retire_freed()) << "nothing left to retire";
  EXPECT_GE(comp().stats().retire_fences, 1u);
}

// The guest creates, clears and destroys desktop-sized windows faster than llvmpipe runs the
// clears (bench_hostile BM_WindowOrderStorm). Before, each deleted renderbuffer stayed referenced
// by a queued batch: all 400 got a drawable and the heap peaked at 41-66 MiB here with a 12 MiB budget (8 MiB now).
TEST_F(WindowBudget, ACreateDestroyStormHoldsAboutTheBudgetInTheDriver) {
  constexpr std::uint64_t kBudget = 3 * 1024 * 1024;  // pixels: 12 MiB of RGBA, 1.5 windows
  start(kBudget);
  if (HasFatalFailure() || IsSkipped()) return;
  if (heap_in_use() == 0) GTEST_SKIP() << "the heap is not glibc's here (sanitizer allocator)";
  comp().finish();
  const std::size_t before = heap_in_use();
  std::size_t peak = 0;
  std::uint64_t admitted = 0;
  for (WindowId id = 1000; id < 1400; ++id) {
    ASSERT_TRUE(comp().create_window(id, window_at({0, 0, 1920, 1080})));
    if (!comp().parked(id)) ++admitted;
    ASSERT_TRUE(comp().destroy_window(id));
    if (id % 8 == 0) {  // a UI turn, with time for the driver to run what was queued
      comp().finish();
      (void)comp().retire_freed();
    }
    peak = std::max(peak, heap_in_use());
  }
  const double peak_mib = double(peak - std::min(peak, before)) / (1 << 20);
  const double budget_mib = double(kBudget * 4) / (1 << 20);
  EXPECT_LT(peak_mib, 2 * budget_mib) << "driver-held window memory beyond the budget";
  EXPECT_GT(admitted, 20u) << "windows still get drawables between retirements";
  std::printf("heap peak +%.1f MiB with a %.1f MiB budget; %lu of 400 windows got a drawable, %lu fences\n",
              peak_mib, budget_mib, static_cast<unsigned long>(admitted),
              static_cast<unsigned long>(comp().stats().retire_fences));
}

}  // namespace
}  // namespace vitrine::compositor
