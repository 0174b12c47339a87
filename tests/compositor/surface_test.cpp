// Windows painted from their own pixels (Compositor::attach_surface / upload_surface): the
// read-back of such a window equals a CPU model of its surface, pixel for pixel, whatever the
// damage sequence; only damaged rectangles are uploaded; bad input is refused and counted.
#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

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

// A surface the way the bus hands it over: width x height pixels starting in the middle of a
// bigger mapping (`left` pixels and `top` rows in), rows `stride` bytes apart with padding.
struct SurfaceBuffer {
  std::int32_t width;
  std::int32_t height;
  std::size_t stride;
  std::vector<std::byte> mapping;
  std::size_t offset;

  SurfaceBuffer(std::int32_t w, std::int32_t h, std::int32_t left = 7, std::int32_t top = 3, std::size_t pad = 52)
      : width(w),
        height(h),
        stride(static_cast<std::size_t>(w + left) * 4 + pad),
        mapping(stride * static_cast<std::size_t>(h + top + 2), std::byte{0xcd}),
        offset(static_cast<std::size_t>(top) * stride + static_cast<std::size_t>(left) * 4) {}
  [[nodiscard]] PixelSource view() const { return {mapping.data() + offset, width, height, stride}; }
  std::byte* at(std::int32_t x, std::int32_t y) {
    return mapping.data() + offset + static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x) * 4;
  }
  // New random pixels inside `r` (clipped); returns the clipped rectangle.
  WindowRect paint(const WindowRect& r, std::mt19937& rng) {
    const WindowRect c = r.intersect({0, 0, width, height});
    for (std::int32_t y = c.y; y < c.y + c.height; ++y)
      for (std::int32_t x = c.x; x < c.x + c.width; ++x)
        for (std::size_t k = 0; k < 4; ++k) at(x, y)[k] = std::byte{static_cast<std::uint8_t>(rng())};
    return c;
  }
  void paint_all(std::mt19937& rng) { paint({0, 0, width, height}, rng); }
};

// What a window of `size` shows for a surface: its pixels at the top-left, alpha forced opaque,
// opaque black past the surface.
Image expected_for(const PixelSource& surface, std::int32_t width, std::int32_t height) {
  return crop(surface, DesktopRect{0, 0, width, height});
}

void expect_image(HeadlessBackend& backend, WindowId id, const Image& expected, const std::string& where) {
  auto img = backend.read_back(id);
  ASSERT_TRUE(img) << to_string(img.error());
  ASSERT_EQ(img->width, expected.width) << where;
  ASSERT_EQ(img->height, expected.height) << where;
  if (img->pixels == expected.pixels) return;
  for (std::int32_t y = 0; y < expected.height; ++y)
    for (std::int32_t x = 0; x < expected.width; ++x)
      ASSERT_EQ(img->at(x, y), expected.at(x, y)) << where << ": window " << id << " pixel " << x << "," << y;
}

class Surfaces : public ::testing::Test {
 protected:
  void SetUp() override { start(CompositorConfig{}); }
  void start(CompositorConfig config) {
    config.debug_damage = config.debug_damage.value_or(false);
    std::string why;
    h_ = make_headless(config, why);
    if (!h_.compositor) GTEST_SKIP() << "headless EGL unavailable: " << why;
  }
  Compositor& comp() { return *h_.compositor; }
  HeadlessBackend& backend() { return *h_.backend; }
  void expect_shows(WindowId id, const PixelSource& surface, const std::string& where) {
    const Window* w = comp().scene().find(id);
    ASSERT_NE(w, nullptr);
    expect_image(backend(), id, expected_for(surface, w->desc.rect.width, w->desc.rect.height), where);
  }

  Headless h_;
  std::mt19937 rng_{2024};
};

TEST_F(Surfaces, WindowShowsExactlyTheUploadedPixelsFromAPaddedSourceInsideABiggerBuffer) {
  constexpr std::int32_t kW = 97, kH = 61;
  SurfaceBuffer buf(kW, kH);
  ASSERT_GT(buf.stride, static_cast<std::size_t>(kW) * 4);
  buf.paint_all(rng_);
  ASSERT_TRUE(comp().create_window(1, window_at({30, 20, kW, kH})));
  ASSERT_TRUE(comp().attach_surface(1, kW, kH));
  EXPECT_TRUE(comp().has_surface(1));
  const WindowRect all{0, 0, kW, kH};
  auto up = comp().upload_surface(1, buf.view(), std::span(&all, 1));
  ASSERT_TRUE(up) << to_string(up.error());
  EXPECT_EQ(up->bytes_uploaded, std::int64_t{kW} * kH * 4);
  EXPECT_EQ(up->bytes_damaged, up->bytes_uploaded);
  EXPECT_EQ(up->rects, 1);
  auto r = comp().present();
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->windows_presented, 1u);
  EXPECT_EQ(r->upload.bytes_uploaded, 0) << "no desktop upload without a framebuffer";
  expect_shows(1, buf.view(), "first upload");
  const CompositorStats& s = comp().stats();
  EXPECT_EQ(s.surface_uploads, 1u);
  EXPECT_EQ(s.surface_bytes_uploaded, std::uint64_t{kW} * kH * 4);
  EXPECT_EQ(s.surface_bytes_damaged, s.surface_bytes_uploaded);
  EXPECT_EQ(s.surfaces, 1u);
  EXPECT_EQ(s.bytes_uploaded, 0u);
}

TEST_F(Surfaces, PartialDamageUploadsOnlyThoseRectanglesAndKeepsTheRest) {
  constexpr std::int32_t kW = 120, kH = 90;
  SurfaceBuffer buf(kW, kH);
  buf.paint_all(rng_);
  ASSERT_TRUE(comp().create_window(1, window_at({0, 0, kW, kH})));
  ASSERT_TRUE(comp().attach_surface(1, kW, kH));
  const WindowRect all{0, 0, kW, kH};
  ASSERT_TRUE(comp().upload_surface(1, buf.view(), std::span(&all, 1)));
  ASSERT_TRUE(comp().present());
  Image model = expected_for(buf.view(), kW, kH);

  // Every pixel of the source changes, only two (overlapping) rectangles are reported: the rest
  // of the window must keep the old pixels, and the overlap is uploaded once.
  buf.paint_all(rng_);
  const std::vector<WindowRect> rects{{10, 5, 30, 20}, {30, 15, 20, 10}, {100, 80, 40, 40}};
  auto up = comp().upload_surface(1, buf.view(), rects);
  ASSERT_TRUE(up) << to_string(up.error());
  // {10,5,30,20} + the part of {30,15,20,10} outside it + {100,80,40,40} clipped to 20x10.
  const std::int64_t pixels = 30 * 20 + (50 - 40) * 10 + 20 * 10;
  EXPECT_EQ(up->bytes_damaged, pixels * 4);
  EXPECT_EQ(up->bytes_uploaded, pixels * 4);
  EXPECT_FALSE(up->merged);
  const Image fresh = expected_for(buf.view(), kW, kH);
  WindowRegion damaged;
  for (const auto& r : rects) damaged.add(r);
  for (std::int32_t y = 0; y < kH; ++y) {
    for (std::int32_t x = 0; x < kW; ++x) {
      if (!damaged.contains({x, y})) continue;
      const std::size_t at = (static_cast<std::size_t>(y) * kW + static_cast<std::size_t>(x)) * 4;
      std::memcpy(model.pixels.data() + at, fresh.pixels.data() + at, 4);
    }
  }
  auto r = comp().present();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u);
  expect_image(backend(), 1, model, "partial damage");
  // Nothing uploaded since: nothing drawn.
  r = comp().present();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 0u);
  EXPECT_EQ(r->windows_skipped, 1u);
}

// The acceptance test: 200 seeded rounds of random paints and damage reports (some rectangles
// off the surface, negative or huge; a small rectangle cap so that merges happen), moves and
// resizes of the window, visible regions, presents with and without a framebuffer; after each
// round the read-back equals the CPU model of what the window must show.
TEST_F(Surfaces, RandomDamageSequencesKeepTheWindowEqualToTheCpuModel) {
  CompositorConfig config;
  config.max_upload_rects = 6;
  start(config);
  if (IsSkipped()) return;
  constexpr std::int32_t kW = 150, kH = 100;
  SurfaceBuffer buf(kW, kH, 11, 5, 36);
  buf.paint_all(rng_);
  Framebuffer fb(200, 150);
  fb.randomize(rng_);
  ASSERT_TRUE(comp().create_window(1, window_at({5, 5, kW, kH})));
  ASSERT_TRUE(comp().create_window(2, window_at({40, 60, 80, 50})));  // samples the desktop
  ASSERT_TRUE(comp().attach_surface(1, kW, kH));
  const WindowRect all{0, 0, kW, kH};
  ASSERT_TRUE(comp().upload_surface(1, buf.view(), std::span(&all, 1)));
  ASSERT_TRUE(comp().present(fb.view()));

  auto random_rect = [&] {
    const auto x = static_cast<std::int32_t>(rng_() % (kW + 40)) - 20;
    const auto y = static_cast<std::int32_t>(rng_() % (kH + 40)) - 20;
    return WindowRect{x, y, static_cast<std::int32_t>(rng_() % 50) - 2, static_cast<std::int32_t>(rng_() % 35) - 2};
  };
  std::uint64_t merged = 0;
  for (int round = 0; round < 200; ++round) {
    std::vector<WindowRect> rects;
    const int n = 1 + static_cast<int>(rng_() % 10);
    for (int i = 0; i < n; ++i) {
      rects.push_back(random_rect());
      buf.paint(rects.back(), rng_);  // a well-behaved guest reports what it painted ...
    }
    if (rng_() % 5 == 0) rects.push_back({INT_MIN / 2, -5, INT_MAX, 3 + static_cast<std::int32_t>(rng_() % 9)});
    if (rng_() % 7 == 0) rects.push_back({3, 3, -4, 10});  // ... and some junk
    auto up = comp().upload_surface(1, buf.view(), rects);
    ASSERT_TRUE(up) << to_string(up.error());
    if (up->merged) {
      ++merged;
      EXPECT_GE(up->bytes_uploaded, up->bytes_damaged);
    } else {
      EXPECT_EQ(up->bytes_uploaded, up->bytes_damaged);
    }
    switch (rng_() % 12) {
      case 0:  // the window grows or shrinks around its surface
        ASSERT_TRUE(comp().set_rect(1, {static_cast<std::int32_t>(rng_() % 20), 5,
                                        100 + static_cast<std::int32_t>(rng_() % 100),
                                        60 + static_cast<std::int32_t>(rng_() % 80)}));
        break;
      case 1:
        ASSERT_TRUE(comp().set_rect(1, {5, 5, kW, kH}));
        break;
      case 2: {  // the desktop changes under both windows
        const DesktopRect d{static_cast<std::int32_t>(rng_() % 150), static_cast<std::int32_t>(rng_() % 100), 40, 30};
        fb.paint(d, rng_);
        comp().damage(d);
        break;
      }
      default:
        break;
    }
    auto r = (round % 3 == 0) ? comp().present(fb.view()) : comp().present();
    ASSERT_TRUE(r) << to_string(r.error());
    const Window* w = comp().scene().find(1);
    expect_image(backend(), 1, expected_for(buf.view(), w->desc.rect.width, w->desc.rect.height),
                 "round " + std::to_string(round));
    if (HasFatalFailure()) return;
    if (round % 3 == 0) {
      expect_image(backend(), 2, crop(fb.view(), comp().scene().find(2)->desc.rect),
                   "desktop window, round " + std::to_string(round));
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_GT(merged, 0u) << "the rectangle cap was never exercised";
  EXPECT_EQ(comp().stats().backend_errors, 0u);
}

TEST_F(Surfaces, ReattachWithANewSizeReplacesTheTexture) {
  ASSERT_TRUE(comp().create_window(1, window_at({0, 0, 80, 60})));
  SurfaceBuffer small(64, 48);
  small.paint_all(rng_);
  ASSERT_TRUE(comp().attach_surface(1, 64, 48));
  const WindowRect all{0, 0, 1000, 1000};  // clipped to the surface
  ASSERT_TRUE(comp().upload_surface(1, small.view(), std::span(&all, 1)));
  ASSERT_TRUE(comp().present());
  expect_shows(1, small.view(), "surface smaller than the window");
  auto img = backend().read_back(1);
  ASSERT_TRUE(img);
  EXPECT_EQ(img->at(70, 10), 0xff000000u) << "past the surface: opaque black";
  EXPECT_EQ(img->at(10, 55), 0xff000000u);

  ASSERT_TRUE(comp().attach_surface(1, 64, 48)) << "same size: kept";
  SurfaceBuffer big(100, 70);
  big.paint_all(rng_);
  ASSERT_TRUE(comp().attach_surface(1, 100, 70));
  EXPECT_EQ(comp().stats().surfaces, 1u);
  const auto refused = comp().stats().refused;
  auto stale = comp().upload_surface(1, small.view(), std::span(&all, 1));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Errc::kInvalidArgument);
  EXPECT_EQ(comp().stats().refused, refused + 1);
  ASSERT_TRUE(comp().upload_surface(1, big.view(), std::span(&all, 1)));
  ASSERT_TRUE(comp().present());
  expect_shows(1, big.view(), "surface larger than the window: its top-left part");
}

TEST_F(Surfaces, DetachReturnsToDesktopSampling) {
  Framebuffer fb(160, 120);
  fb.randomize(rng_);
  ASSERT_TRUE(comp().create_window(1, window_at({20, 10, 64, 64})));
  ASSERT_TRUE(comp().present(fb.view()));
  SurfaceBuffer buf(64, 64);
  buf.paint_all(rng_);
  ASSERT_TRUE(comp().attach_surface(1, 64, 64));
  const WindowRect all{0, 0, 64, 64};
  ASSERT_TRUE(comp().upload_surface(1, buf.view(), std::span(&all, 1)));
  ASSERT_TRUE(comp().present(fb.view()));
  expect_shows(1, buf.view(), "attached");
  ASSERT_TRUE(comp().detach_surface(1));
  EXPECT_FALSE(comp().has_surface(1));
  EXPECT_EQ(comp().stats().surfaces, 0u);
  EXPECT_TRUE(comp().detach_surface(1)) << "no surface: nothing to do";
  auto r = comp().present(fb.view());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u) << "redrawn without any damage";
  expect_image(backend(), 1, crop(fb.view(), {20, 10, 64, 64}), "detached");
}

TEST_F(Surfaces, ASurfaceWindowAndADesktopWindowEachRedrawOnlyForTheirOwnPixels) {
  Framebuffer fb(300, 200);
  fb.randomize(rng_);
  SurfaceBuffer buf(100, 80);
  buf.paint_all(rng_);
  ASSERT_TRUE(comp().create_window(1, window_at({0, 0, 100, 80})));     // surface
  ASSERT_TRUE(comp().create_window(2, window_at({50, 40, 120, 100})));  // desktop, overlaps 1
  ASSERT_TRUE(comp().attach_surface(1, 100, 80));
  const WindowRect all{0, 0, 100, 80};
  ASSERT_TRUE(comp().upload_surface(1, buf.view(), std::span(&all, 1)));
  ASSERT_TRUE(comp().present(fb.view()));
  expect_shows(1, buf.view(), "surface window");
  expect_image(backend(), 2, crop(fb.view(), {50, 40, 120, 100}), "desktop window");
  EXPECT_EQ(backend().frames_of(1), 1u);
  EXPECT_EQ(backend().frames_of(2), 1u);

  // Desktop damage inside both rectangles redraws only the desktop window.
  fb.paint({60, 50, 20, 20}, rng_);
  comp().damage(DesktopRect{60, 50, 20, 20});
  auto r = comp().present(fb.view());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u);
  EXPECT_EQ(backend().frames_of(1), 1u);
  EXPECT_EQ(backend().frames_of(2), 2u);
  expect_image(backend(), 2, crop(fb.view(), {50, 40, 120, 100}), "desktop window after damage");

  // A surface upload redraws only the surface window, with or without a framebuffer.
  const WindowRect part{5, 5, 10, 10};
  buf.paint(part, rng_);
  ASSERT_TRUE(comp().upload_surface(1, buf.view(), std::span(&part, 1)));
  r = comp().present(fb.view());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u);
  EXPECT_EQ(r->upload.bytes_uploaded, 0);
  EXPECT_EQ(backend().frames_of(1), 2u);
  EXPECT_EQ(backend().frames_of(2), 2u);
  expect_shows(1, buf.view(), "surface window after upload");
}

TEST_F(Surfaces, PresentWithoutAnyFramebuffer) {
  SurfaceBuffer buf(50, 40);
  buf.paint_all(rng_);
  ASSERT_TRUE(comp().create_window(1, window_at({0, 0, 50, 40})));
  ASSERT_TRUE(comp().create_window(2, window_at({60, 0, 30, 20})));  // no surface, no desktop
  ASSERT_TRUE(comp().attach_surface(1, 50, 40));
  comp().damage(DesktopRect{0, 0, 10, 10});
  auto r = comp().present();  // before any upload: both are new, both drawn
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->windows_presented, 2u);
  EXPECT_FALSE(comp().pending_damage().empty()) << "desktop damage waits for a framebuffer";
  const WindowRect all{0, 0, 50, 40};
  ASSERT_TRUE(comp().upload_surface(1, buf.view(), std::span(&all, 1)));
  r = comp().present();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u);
  EXPECT_EQ(r->windows_skipped, 1u);
  expect_shows(1, buf.view(), "no framebuffer");
  expect_image(backend(), 2, crop(PixelSource{}, {0, 0, 30, 20}), "no desktop texture: black");
  EXPECT_EQ(comp().stats().frames, 2u);
  EXPECT_EQ(comp().stats().bytes_uploaded, 0u);
}

TEST_F(Surfaces, VisibilityShapeAndDebugTintApplyAsToOtherWindows) {
  CompositorConfig config;
  config.debug_damage = true;
  start(config);
  if (IsSkipped()) return;
  SurfaceBuffer buf(64, 64);
  buf.paint_all(rng_);
  ASSERT_TRUE(comp().create_window(1, window_at({0, 0, 64, 64})));
  ASSERT_TRUE(comp().attach_surface(1, 64, 64));
  ASSERT_TRUE(comp().set_visible_region(1, WindowRegion(WindowRect{0, 0, 32, 64})));
  const WindowRect all{0, 0, 64, 64};
  ASSERT_TRUE(comp().upload_surface(1, buf.view(), std::span(&all, 1)));
  ASSERT_TRUE(comp().present());
  ASSERT_TRUE(comp().present());  // the tint of the first upload went with the first draw
  const Image ref = expected_for(buf.view(), 64, 64);
  const WindowRect part{8, 8, 4, 4};
  ASSERT_TRUE(comp().upload_surface(1, buf.view(), std::span(&part, 1)));
  ASSERT_TRUE(comp().present());
  auto img = backend().read_back(1);
  ASSERT_TRUE(img);
  EXPECT_NE(img->at(9, 9), ref.at(9, 9)) << "uploaded pixels tinted";
  EXPECT_EQ(img->at(20, 20), ref.at(20, 20));
  EXPECT_EQ(img->at(40, 20), 0u) << "outside the visible region: transparent black";

  // Hidden and minimized surface windows are not drawn; showing them again is.
  ASSERT_TRUE(comp().set_visible(1, false));
  ASSERT_TRUE(comp().upload_surface(1, buf.view(), std::span(&part, 1)));
  auto r = comp().present();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 0u);
  ASSERT_TRUE(comp().set_visible(1, true));
  r = comp().present();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u);
}

TEST_F(Surfaces, BadInputIsRefusedAndCountedNeverCrashes) {
  SurfaceBuffer buf(40, 30);
  buf.paint_all(rng_);
  const WindowRect all{0, 0, 40, 30};
  const auto before = comp().stats().refused;
  std::uint64_t expected_refusals = 0;
  auto refused_with = [&](auto result, Errc code, const char* what) {
    ASSERT_FALSE(result) << what;
    EXPECT_EQ(result.error().code, code) << what << ": " << to_string(result.error());
    ++expected_refusals;
  };
  refused_with(comp().attach_surface(9, 40, 30), Errc::kNotFound, "attach to an unknown window");
  refused_with(comp().detach_surface(9), Errc::kNotFound, "detach an unknown window");
  refused_with(comp().upload_surface(9, buf.view(), std::span(&all, 1)), Errc::kNotFound, "upload to unknown");
  EXPECT_FALSE(comp().has_surface(9));

  ASSERT_TRUE(comp().create_window(1, window_at({0, 0, 40, 30})));
  refused_with(comp().upload_surface(1, buf.view(), std::span(&all, 1)), Errc::kNotFound, "no surface yet");
  const std::vector<std::pair<std::int32_t, std::int32_t>> bad_sizes{{0, 30},     {40, 0},      {-1, 30},
                                                                     {40, -5},    {16385, 1},   {1, INT_MAX},
                                                                     {INT_MIN, INT_MIN}};
  for (auto [w, h] : bad_sizes) {
    refused_with(comp().attach_surface(1, w, h), Errc::kInvalidArgument, "bad surface size");
  }
  EXPECT_FALSE(comp().has_surface(1));
  ASSERT_TRUE(comp().attach_surface(1, 40, 30));

  PixelSource bad = buf.view();
  bad.data = nullptr;
  refused_with(comp().upload_surface(1, bad, std::span(&all, 1)), Errc::kInvalidArgument, "null data");
  bad = buf.view();
  bad.stride = 40 * 4 - 4;
  refused_with(comp().upload_surface(1, bad, std::span(&all, 1)), Errc::kInvalidArgument, "stride too small");
  bad.stride = 40 * 4 + 2;
  refused_with(comp().upload_surface(1, bad, std::span(&all, 1)), Errc::kInvalidArgument, "stride not whole pixels");
  bad.stride = (std::size_t{1} << 31) * 4;  // more pixels per row than GL_UNPACK_ROW_LENGTH holds
  refused_with(comp().upload_surface(1, bad, std::span(&all, 1)), Errc::kInvalidArgument, "stride past a GLint");
  bad = buf.view();
  bad.width = 39;
  refused_with(comp().upload_surface(1, bad, std::span(&all, 1)), Errc::kInvalidArgument, "size mismatch");
  bad = buf.view();
  bad.height = -30;
  refused_with(comp().upload_surface(1, bad, std::span(&all, 1)), Errc::kInvalidArgument, "negative height");
  EXPECT_EQ(comp().stats().refused, before + expected_refusals);

  // Rectangles are clipped, never refused: negative, empty, huge, off the surface, and a flood.
  const std::vector<WindowRect> junk{{-10, -10, 5, 5},          {0, 0, -40, -30}, {0, 0, 0, 0},
                                     {INT_MIN, INT_MIN, 1, 1},  {INT_MAX, INT_MAX, INT_MAX, INT_MAX},
                                     {40, 0, 10, 10},           {0, 30, 10, 10}};
  auto up = comp().upload_surface(1, buf.view(), junk);
  ASSERT_TRUE(up) << to_string(up.error());
  EXPECT_EQ(up->bytes_uploaded, 0);
  EXPECT_EQ(comp().stats().surface_uploads, 0u) << "nothing uploaded: not counted";
  const std::vector<WindowRect> huge{{INT_MIN, INT_MIN, INT_MAX, INT_MAX}, {-5, -5, INT_MAX, INT_MAX}};
  up = comp().upload_surface(1, buf.view(), huge);
  ASSERT_TRUE(up) << to_string(up.error());
  EXPECT_EQ(up->bytes_uploaded, 40 * 30 * 4) << "clipped to the surface";
  std::vector<WindowRect> flood;
  for (int i = 0; i < 200'000; ++i) flood.push_back({i % 40, (i / 40) % 30, 1, 1});
  up = comp().upload_surface(1, buf.view(), flood);
  ASSERT_TRUE(up) << to_string(up.error());
  EXPECT_TRUE(up->merged);
  EXPECT_EQ(up->rects, 1);
  auto r = comp().present();
  ASSERT_TRUE(r) << to_string(r.error());
  expect_shows(1, buf.view(), "after junk");
  EXPECT_EQ(comp().stats().refused, before + expected_refusals);
  EXPECT_EQ(comp().stats().backend_errors, 0u);
}

TEST_F(Surfaces, DestroyingAWindowFreesItsSurface) {
  SurfaceBuffer buf(32, 32);
  buf.paint_all(rng_);
  const WindowRect all{0, 0, 32, 32};
  for (WindowId id = 1; id <= 3; ++id) {
    ASSERT_TRUE(comp().create_window(id, window_at({0, 0, 32, 32})));
    ASSERT_TRUE(comp().attach_surface(id, 32, 32));
    ASSERT_TRUE(comp().upload_surface(id, buf.view(), std::span(&all, 1)));
  }
  EXPECT_EQ(comp().stats().surfaces, 3u);
  ASSERT_TRUE(comp().destroy_window(2));  // uploaded, not yet presented
  EXPECT_FALSE(comp().has_surface(2));
  EXPECT_EQ(comp().stats().surfaces, 2u);
  EXPECT_EQ(comp().upload_surface(2, buf.view(), std::span(&all, 1)).error().code, Errc::kNotFound);
  auto r = comp().present();
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->windows_presented, 2u);
  // The id comes back as a new window without a surface.
  ASSERT_TRUE(comp().create_window(2, window_at({0, 0, 32, 32})));
  EXPECT_FALSE(comp().has_surface(2));
  ASSERT_TRUE(comp().destroy_window(1));
  ASSERT_TRUE(comp().destroy_window(3));
  EXPECT_EQ(comp().stats().surfaces, 0u);
  ASSERT_TRUE(comp().present());
}

// A parked window (over the pixel budget) may have a surface; surfaces cost no budget, and the
// window shows its surface once it gets a drawable.
TEST_F(Surfaces, AParkedWindowShowsItsSurfaceWhenAdmitted) {
  CompositorConfig config;
  config.max_window_pixels = 64 * 64;
  start(config);
  if (IsSkipped()) return;
  SurfaceBuffer buf(64, 64);
  buf.paint_all(rng_);
  const WindowRect all{0, 0, 64, 64};
  ASSERT_TRUE(comp().create_window(1, window_at({0, 0, 64, 64})));
  ASSERT_TRUE(comp().create_window(2, window_at({0, 0, 64, 64})));
  ASSERT_TRUE(comp().parked(2));
  ASSERT_TRUE(comp().attach_surface(2, 64, 64));
  ASSERT_TRUE(comp().upload_surface(2, buf.view(), std::span(&all, 1)));
  EXPECT_EQ(comp().window_pixels(), 64u * 64u) << "surfaces are not drawables";
  ASSERT_TRUE(comp().present());
  ASSERT_TRUE(comp().destroy_window(1));
  comp().finish();  // the driver lets window 1's drawable go; the next turn admits window 2
  ASSERT_TRUE(comp().retire_freed());
  ASSERT_FALSE(comp().parked(2));
  auto r = comp().present();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u);
  expect_shows(2, buf.view(), "admitted");
}

}  // namespace
}  // namespace vitrine::compositor
