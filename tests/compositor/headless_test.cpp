#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <cstring>
#include <random>

#include "headless_fixture.hpp"

namespace vitrine::compositor {
namespace {

using testing::Framebuffer;
using testing::make_headless;

WindowDesc window_at(DesktopRect r, WindowKind kind = WindowKind::kNormal) {
  WindowDesc d;
  d.rect = r;
  d.kind = kind;
  return d;
}

void expect_window_shows(HeadlessBackend& backend, const Window& w, const PixelSource& fb, const std::string& where) {
  auto img = backend.read_back(w.id);
  ASSERT_TRUE(img) << to_string(img.error());
  const Image expected = crop(fb, w.desc.rect);
  ASSERT_EQ(img->width, expected.width);
  ASSERT_EQ(img->height, expected.height);
  if (img->pixels != expected.pixels) {
    for (std::int32_t y = 0; y < expected.height; ++y)
      for (std::int32_t x = 0; x < expected.width; ++x)
        ASSERT_EQ(img->at(x, y), expected.at(x, y)) << where << " window " << w.id << " pixel " << x << "," << y;
  }
}

DesktopRect random_rect(std::mt19937& rng, std::int32_t w, std::int32_t h) {
  const auto x = static_cast<std::int32_t>(rng() % static_cast<unsigned>(w + 20)) - 10;
  const auto y = static_cast<std::int32_t>(rng() % static_cast<unsigned>(h + 20)) - 10;
  return {x, y, 1 + static_cast<std::int32_t>(rng() % 60), 1 + static_cast<std::int32_t>(rng() % 40)};
}

struct PathCase {
  UploadPath path;
  bool mapped_framebuffer;
  bool tile_hashing;
  int sequences;
  const char* name;
};

class RandomDamage : public ::testing::TestWithParam<PathCase> {};

// The acceptance test: random damage sequences on a random framebuffer; after each,
// every window's read-back equals the CPU reference (the framebuffer cropped to the window).
TEST_P(RandomDamage, EveryWindowMatchesTheFramebufferAfterEachPresent) {
  const PathCase pc = GetParam();
  std::string why;
  CompositorConfig config;
  config.upload_path = pc.path;
  config.tile_hashing = pc.tile_hashing;
  config.max_upload_rects = 16;  // small cap: exercise the merge path too
  config.debug_damage = false;
  auto h = make_headless(config, why);
  if (!h.compositor) GTEST_SKIP() << "headless EGL unavailable: " << why;
  Compositor& comp = *h.compositor;

  constexpr std::int32_t kW = 240, kH = 160;
  std::mt19937 rng(1234);
  Framebuffer own(kW, kH);
  MappedFramebuffer mapped;
  if (pc.mapped_framebuffer) {
    auto m = comp.map_framebuffer(kW, kH);
    if (!m) GTEST_SKIP() << "mapped framebuffer unavailable: " << to_string(m.error());
    mapped = *m;
  }
  auto pixels = [&]() -> std::byte* { return pc.mapped_framebuffer ? mapped.pixels : own.bytes.data(); };
  const std::size_t stride = pc.mapped_framebuffer ? mapped.source.stride : own.stride;
  const PixelSource fb = pc.mapped_framebuffer ? mapped.source : own.view();
  auto paint = [&](const DesktopRect& r) {
    const DesktopRect c = r.intersect({0, 0, kW, kH});
    for (std::int32_t y = c.y; y < c.y + c.height; ++y)
      for (std::int32_t x = c.x; x < c.x + c.width; ++x)
        for (std::size_t k = 0; k < 4; ++k)
          pixels()[static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x) * 4 + k] =
              std::byte{static_cast<std::uint8_t>(rng())};
  };
  paint({0, 0, kW, kH});

  // Windows inside, overlapping, partly off the framebuffer and entirely off it.
  const std::vector<DesktopRect> rects{{0, 0, kW, kH}, {10, 20, 100, 60}, {150, 100, 120, 90},
                                       {-30, -20, 50, 40}, {500, 500, 20, 20}};
  WindowId next = 1;
  for (const auto& r : rects) ASSERT_TRUE(comp.create_window(next++, window_at(r)));
  ASSERT_TRUE(comp.present(fb));
  comp.finish();

  for (int seq = 0; seq < pc.sequences; ++seq) {
    const int steps = 1 + static_cast<int>(rng() % 4);
    for (int s = 0; s < steps; ++s) {
      const DesktopRect r = random_rect(rng, kW, kH);
      paint(r);
      comp.damage(r);
      if (rng() % 8 == 0) comp.damage(random_rect(rng, kW, kH));  // over-reported damage is harmless
    }
    if (rng() % 16 == 0) {  // move/resize a window now and then
      const WindowId id = 2 + rng() % 3;
      ASSERT_TRUE(comp.set_rect(id, random_rect(rng, kW, kH)));
    }
    auto res = comp.present(fb);
    ASSERT_TRUE(res) << to_string(res.error());
    if (pc.mapped_framebuffer) comp.wait_uploads_idle();  // writers below must not race the GPU
    for (WindowId id : comp.scene().stacking()) {
      expect_window_shows(*h.backend, *comp.scene().find(id), fb, "sequence " + std::to_string(seq));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  EXPECT_EQ(comp.stats().backend_errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Paths, RandomDamage,
    ::testing::Values(PathCase{UploadPath::kAuto, false, false, 1000, "Auto"},
                      PathCase{UploadPath::kOrphanPbo, false, false, 100, "OrphanPbo"},
                      PathCase{UploadPath::kClientMemory, false, false, 100, "ClientMemory"},
                      PathCase{UploadPath::kFullFrame, false, false, 50, "FullFrame"},
                      PathCase{UploadPath::kAuto, true, false, 100, "MappedFramebuffer"},
                      PathCase{UploadPath::kAuto, false, true, 200, "TileHashing"}),
    [](const ::testing::TestParamInfo<PathCase>& param_info) { return std::string(param_info.param.name); });

class HeadlessCompositor : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    CompositorConfig config;
    config.debug_damage = false;
    h_ = make_headless(config, why);
    if (!h_.compositor) GTEST_SKIP() << "headless EGL unavailable: " << why;
    rng_.seed(99);
    fb_.randomize(rng_);
  }
  testing::Headless h_;
  Framebuffer fb_{320, 200};
  std::mt19937 rng_;
};

TEST_F(HeadlessCompositor, UndamagedWindowsAreSkipped) {
  Compositor& c = *h_.compositor;
  ASSERT_TRUE(c.create_window(1, window_at({0, 0, 100, 100})));
  ASSERT_TRUE(c.create_window(2, window_at({200, 0, 100, 100})));
  ASSERT_TRUE(c.present(fb_.view()));
  EXPECT_EQ(h_.backend->frames_of(1), 1u);
  EXPECT_EQ(h_.backend->frames_of(2), 1u);
  fb_.paint({10, 10, 5, 5}, rng_);
  c.damage(DesktopRect{10, 10, 5, 5});
  auto r = c.present(fb_.view());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u);
  EXPECT_EQ(r->windows_skipped, 1u);
  EXPECT_EQ(r->upload.bytes_uploaded, 5 * 5 * 4);
  EXPECT_EQ(h_.backend->frames_of(1), 2u);
  EXPECT_EQ(h_.backend->frames_of(2), 1u);
  // Nothing pending: nothing uploaded, nothing drawn.
  r = c.present(fb_.view());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 0u);
  EXPECT_EQ(r->upload.bytes_uploaded, 0);
  // A move redraws the window without damage.
  ASSERT_TRUE(c.set_rect(2, {150, 50, 100, 100}));
  r = c.present(fb_.view());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u);
  expect_window_shows(*h_.backend, *c.scene().find(2), fb_.view(), "after move");
}

TEST_F(HeadlessCompositor, MinimizedAndHiddenWindowsAreNotDrawnAndRestoreRedraws) {
  Compositor& c = *h_.compositor;
  ASSERT_TRUE(c.create_window(1, window_at({0, 0, 50, 50})));
  ASSERT_TRUE(c.present(fb_.view()));
  ASSERT_TRUE(c.set_state(1, WindowState::kMinimized));
  fb_.paint({0, 0, 50, 50}, rng_);
  c.damage(DesktopRect{0, 0, 50, 50});
  auto r = c.present(fb_.view());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 0u);
  ASSERT_TRUE(c.set_state(1, WindowState::kNormal));
  r = c.present(fb_.view());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u);
  expect_window_shows(*h_.backend, *c.scene().find(1), fb_.view(), "after restore");
}

TEST_F(HeadlessCompositor, VisibleRegionMakesTheRestTransparent) {
  Compositor& c = *h_.compositor;
  ASSERT_TRUE(c.create_window(1, window_at({10, 10, 40, 40})));
  ASSERT_TRUE(c.set_visible_region(1, WindowRegion(WindowRect{0, 0, 20, 40})));
  ASSERT_TRUE(c.present(fb_.view()));
  auto img = h_.backend->read_back(1);
  ASSERT_TRUE(img);
  const Image ref = crop(fb_.view(), {10, 10, 40, 40});
  EXPECT_EQ(img->at(5, 5), ref.at(5, 5));
  EXPECT_EQ(img->at(30, 5), 0u);  // transparent black outside the visible region
}

TEST_F(HeadlessCompositor, DebugDamageTintsOnlyTheDamagedPixels) {
  std::string why;
  CompositorConfig config;
  config.debug_damage = true;
  auto h = make_headless(config, why);
  ASSERT_TRUE(h.compositor) << why;
  ASSERT_TRUE(h.compositor->create_window(1, window_at({0, 0, 64, 64})));
  ASSERT_TRUE(h.compositor->present(fb_.view()));
  h.compositor->damage(DesktopRect{8, 8, 4, 4});
  ASSERT_TRUE(h.compositor->present(fb_.view()));
  auto img = h.backend->read_back(1);
  ASSERT_TRUE(img);
  const Image ref = crop(fb_.view(), {0, 0, 64, 64});
  EXPECT_NE(img->at(9, 9), ref.at(9, 9));
  EXPECT_EQ(img->at(20, 20), ref.at(20, 20));
}

TEST_F(HeadlessCompositor, WritesAPng) {
  Compositor& c = *h_.compositor;
  ASSERT_TRUE(c.create_window(1, window_at({0, 0, 32, 16})));
  ASSERT_TRUE(c.present(fb_.view()));
  auto img = h_.backend->read_back(1);
  ASSERT_TRUE(img);
  const auto path = std::filesystem::temp_directory_path() /
                    ("vitrine-compositor-" + std::to_string(::getpid()) + ".png");
  ASSERT_TRUE(write_png(*img, path.string()));
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  std::filesystem::remove(path);
  EXPECT_FALSE(write_png(*img, "/nonexistent-dir/x.png"));
  EXPECT_FALSE(write_png(Image{}, path.string()));
}

TEST_F(HeadlessCompositor, BadInputIsRefusedOrClippedWithCounters) {
  Compositor& c = *h_.compositor;
  EXPECT_FALSE(c.create_window(1, window_at({0, 0, 0, 10})));
  EXPECT_FALSE(c.create_window(1, window_at({0, 0, -1, -1})));
  EXPECT_FALSE(c.set_title(77, "nobody"));
  EXPECT_FALSE(c.destroy_window(77));
  ASSERT_TRUE(c.create_window(1, window_at({-100000, 100000, 64, 64})));  // far off screen
  std::size_t refused_windows = 0;
  for (WindowId id = 2; id <= 10'001; ++id) {
    if (!c.create_window(id, window_at({static_cast<std::int32_t>(id % 300), 0, 8, 8}))) ++refused_windows;
  }
  EXPECT_EQ(c.scene().size(), Scene::kMaxWindows);
  EXPECT_EQ(refused_windows, 10'000 - (Scene::kMaxWindows - 1));
  c.damage(DesktopRect{-1000, -1000, 5000, 5000});  // reaches far outside the framebuffer
  auto r = c.present(fb_.view());
  ASSERT_TRUE(r) << to_string(r.error());
  EXPECT_EQ(r->upload.bytes_damaged, std::int64_t{320} * 200 * 4);
  EXPECT_EQ(c.stats().damage_clipped, 1u);
  c.damage(DesktopRect{-1000, -1000, 5000, 5000});
  ASSERT_TRUE(c.present(fb_.view()));
  EXPECT_EQ(c.stats().damage_clipped, 2u);
  auto off = h_.backend->read_back(1);
  ASSERT_TRUE(off);
  EXPECT_EQ(off->at(0, 0), 0xff000000u);  // outside the desktop: opaque black
  EXPECT_GE(c.stats().refused, 4u + refused_windows);
  EXPECT_EQ(c.stats().backend_errors, 0u);

  // Invalid framebuffers are refused.
  PixelSource bad = fb_.view();
  bad.stride = 4;
  EXPECT_EQ(c.present(bad).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(c.present(PixelSource{}).error().code, Errc::kInvalidArgument);
  EXPECT_FALSE(h_.backend->read_back(424242));
}

TEST_F(HeadlessCompositor, MappedFramebufferWithPaddedRowsAndSpanDamage) {
  Compositor& c = *h_.compositor;
  constexpr std::int32_t kW = 100, kH = 50;
  constexpr std::size_t kStride = kW * 4 + 64;  // padded rows, as FreeRDP may ask for
  EXPECT_FALSE(c.map_framebuffer(kW, kH, kW * 4 - 4));  // stride too small
  EXPECT_FALSE(c.map_framebuffer(kW, kH, kW * 4 + 2));  // not whole pixels
  EXPECT_FALSE(c.map_framebuffer(0, kH));
  auto m = c.map_framebuffer(kW, kH, kStride);
  if (!m) GTEST_SKIP() << to_string(m.error());
  ASSERT_EQ(m->source.stride, kStride);
  for (std::size_t i = 0; i < kStride * kH; ++i) m->pixels[i] = std::byte{static_cast<std::uint8_t>(rng_())};
  ASSERT_TRUE(c.create_window(1, window_at({0, 0, kW, kH})));
  ASSERT_TRUE(c.present(m->source));
  expect_window_shows(*h_.backend, *c.scene().find(1), m->source, "mapped, first frame");
  c.wait_uploads_idle();
  const std::vector<DesktopRect> rects{{3, 4, 10, 10}, {50, 20, 30, 5}};
  for (const auto& r : rects) {
    for (std::int32_t y = r.y; y < r.y + r.height; ++y)
      for (std::int32_t x = r.x; x < r.x + r.width; ++x)
        m->pixels[static_cast<std::size_t>(y) * kStride + static_cast<std::size_t>(x) * 4] ^= std::byte{0xff};
  }
  c.damage(std::span<const DesktopRect>(rects));
  auto r = c.present(m->source);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->upload.bytes_uploaded, (10 * 10 + 30 * 5) * 4);
  expect_window_shows(*h_.backend, *c.scene().find(1), m->source, "mapped, damage");
}

TEST_F(HeadlessCompositor, FramebufferResizeReuploadsEverything) {
  Compositor& c = *h_.compositor;
  ASSERT_TRUE(c.create_window(1, window_at({0, 0, 100, 100})));
  ASSERT_TRUE(c.present(fb_.view()));
  Framebuffer bigger(400, 300, 0);
  bigger.randomize(rng_);
  auto r = c.present(bigger.view());
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->upload.full_frame);
  expect_window_shows(*h_.backend, *c.scene().find(1), bigger.view(), "after resize");
}

// upload() copies the damage out at once: the producer may rewrite the framebuffer before the
// present() that draws it, and the windows show what was uploaded (the viewer's hand-off: the
// FreeRDP thread keeps off the framebuffer only while upload() runs, not through draw and swap).
TEST_F(HeadlessCompositor, UploadCopiesNowAndTheNextPresentDrawsIt) {
  Compositor& c = *h_.compositor;
  ASSERT_TRUE(c.create_window(1, window_at({0, 0, 100, 100})));
  ASSERT_TRUE(c.create_window(2, window_at({200, 0, 100, 100})));
  ASSERT_TRUE(c.present(fb_.view()));
  fb_.paint({10, 10, 30, 20}, rng_);
  c.damage(DesktopRect{10, 10, 30, 20});
  auto up = c.upload(fb_.view());
  ASSERT_TRUE(up) << to_string(up.error());
  EXPECT_EQ(up->bytes_uploaded, 30 * 20 * 4);
  const Framebuffer uploaded = fb_;
  fb_.paint({0, 0, 320, 200}, rng_);  // the producer goes on writing
  auto r = c.present();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 1u) << "the window the upload touched, and only it";
  EXPECT_EQ(r->windows_skipped, 1u);
  expect_window_shows(*h_.backend, *c.scene().find(1), uploaded.view(), "drawn from what upload() copied");
  r = c.present();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->windows_presented, 0u) << "an upload is drawn once";
}

// Each compositor has its own GL context; every public call must make its own current (a
// mapped framebuffer created while another context was current once broke the other's ring).
TEST(HeadlessCompositors, SeveralInOneProcessKeepTheirOwnGlObjects) {
  std::vector<testing::Headless> rigs;
  const UploadPath paths[] = {UploadPath::kAuto, UploadPath::kOrphanPbo, UploadPath::kClientMemory};
  for (UploadPath p : paths) {
    std::string why;
    CompositorConfig config;
    config.upload_path = p;
    config.debug_damage = false;
    rigs.push_back(make_headless(config, why));
    if (!rigs.back().compositor) GTEST_SKIP() << "headless EGL unavailable: " << why;
  }
  std::mt19937 rng(8);
  std::vector<Framebuffer> fbs(rigs.size(), Framebuffer(200, 120));
  for (std::size_t i = 0; i < rigs.size(); ++i) {
    fbs[i].randomize(rng);
    ASSERT_TRUE(rigs[i].compositor->create_window(1, window_at({0, 0, 200, 120})));
    ASSERT_TRUE(rigs[i].compositor->present(fbs[i].view()));
  }
  // Made while the last rig's context is current: must still land in rig 0's context.
  auto mapped = rigs[0].compositor->map_framebuffer(200, 120);
  if (!mapped) GTEST_SKIP() << to_string(mapped.error());
  for (int round = 0; round < 5; ++round) {
    for (std::size_t i = 0; i < rigs.size(); ++i) {
      const DesktopRect r{round * 10, round * 5, 30, 20};
      fbs[i].paint(r, rng);
      rigs[i].compositor->damage(r);
      ASSERT_TRUE(rigs[i].compositor->present(fbs[i].view()));
      expect_window_shows(*rigs[i].backend, *rigs[i].compositor->scene().find(1), fbs[i].view(),
                          "rig " + std::to_string(i));
    }
  }
}

}  // namespace
}  // namespace vitrine::compositor
