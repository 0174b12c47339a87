// Headless, same run (Mesa llvmpipe here: "GPU" time is CPU time on the same 2 cores, so the
// upload numbers are an upper bound on what a real GPU costs):
//   BM_UploadDamaged/<pct>   pct% of a 1920x1080 framebuffer damaged in scattered 96x54
//                            rectangles, uploaded through the default path (persistent PBO)
//   BM_UploadFullFrame       the naive baseline: glTexImage2D of the whole frame every frame
//   BM_UploadDamaged{Orphan,Client,Mapped}/10  the other upload paths at 10%
//   BM_TileHashDedupe / BM_TileHashOff  a blinking caret whose producer repaints the whole
//                            text line every frame, with and without xxh3 tile hashing
//   BM_PresentWindows/<n>    n windows tiling the desktop, all damaged, drawn and "swapped"
//   BM_PresentOneOfMany/32   32 windows, damage in one: the other 31 are skipped
//   BM_SurfaceUpload/<w>/<h> one 1920x1080 window painted from its own 1920x1080 surface: a wxh
//                            rectangle of it uploaded (upload_surface) and presented (present()
//                            without a framebuffer)
//   BM_SurfaceBaselineDesktop/<w>/<h>  the same rectangle damaged in a 1920x1080 desktop
//                            framebuffer under a desktop-sized window, default upload path,
//                            present(framebuffer): what the surface path replaces
//   BM_{Surface,Desktop}UploadOnly/<w>/<h>  the same two with the window hidden: present() draws
//                            nothing, so the copy itself is measured (llvmpipe's draw of a
//                            1920x1080 window costs more than any upload and varies run to run)
// Every iteration ends with glFinish so that GPU work is inside the measured time.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "bench_main.hpp"
#include "vitrine/compositor/compositor.hpp"
#include "vitrine/compositor/headless_backend.hpp"

namespace {

using namespace vitrine::compositor;
using vitrine::bench::Metric;

constexpr std::int32_t kW = 1920, kH = 1080;
constexpr int kWarmUp = 3;  // untimed iterations per benchmark
constexpr std::size_t kStride = static_cast<std::size_t>(kW) * 4;

struct Frame {
  std::vector<std::byte> bytes = std::vector<std::byte>(kStride * kH);
  Frame() {
    std::mt19937 rng(1);
    for (auto& b : bytes) b = std::byte{static_cast<std::uint8_t>(rng())};
  }
  PixelSource view() const { return {bytes.data(), kW, kH, kStride}; }
};

Frame& frame() {
  static Frame f;
  return f;
}

// One compositor (one GL context) at a time, as in the real program; it is kept while
// consecutive benchmarks use the same configuration (EGL setup is not measured).
Compositor* rig(UploadPath path, bool hashing) {
  static std::unique_ptr<Compositor> current;
  static std::pair<UploadPath, bool> config{};
  if (current && config == std::pair{path, hashing}) return current.get();
  current.reset();
  setenv("LIBGL_ALWAYS_SOFTWARE", "1", 0);
  auto backend = HeadlessBackend::create();
  if (!backend) return nullptr;
  CompositorConfig cc;
  cc.upload_path = path;
  cc.tile_hashing = hashing;
  cc.debug_damage = false;
  auto c = Compositor::create(std::move(*backend), cc);
  if (!c) return nullptr;
  current = std::move(*c);
  config = {path, hashing};
  (void)current->present(frame().view());  // texture created, full frame uploaded once
  // Warm-up: llvmpipe JIT-compiles its PBO-upload and draw shaders on first use (~0.5 s).
  current->damage(DesktopRect{0, 0, 64, 64});
  (void)current->present(frame().view());
  current->finish();
  return current.get();
}

WindowDesc at(const DesktopRect& r) {
  WindowDesc d;
  d.rect = r;
  return d;
}

void remove_windows(Compositor& c) {
  const std::vector<WindowId> ids(c.scene().stacking().begin(), c.scene().stacking().end());
  for (WindowId id : ids) (void)c.destroy_window(id);
}

// pct% of the desktop in scattered 96x54 cells (each 0.25% of the frame).
DamageRegion scattered(int pct) {
  constexpr int kCols = 20, kRows = 20, kCellW = kW / kCols, kCellH = kH / kRows;
  std::vector<int> cells(kCols * kRows);
  for (int i = 0; i < kCols * kRows; ++i) cells[static_cast<std::size_t>(i)] = i;
  std::mt19937 rng(static_cast<unsigned>(pct));
  std::shuffle(cells.begin(), cells.end(), rng);
  DamageRegion r;
  for (int i = 0; i < pct * 4; ++i) {
    const int c = cells[static_cast<std::size_t>(i)];
    r.add(DesktopRect{(c % kCols) * kCellW, (c / kCols) * kCellH, kCellW, kCellH});
  }
  return r;
}

void upload(benchmark::State& state, UploadPath path, bool mapped) {
  Compositor* c = rig(path, false);
  if (c == nullptr) return state.SkipWithError("headless EGL unavailable");
  remove_windows(*c);
  PixelSource source = frame().view();
  if (mapped) {
    auto m = c->map_framebuffer(kW, kH);
    if (!m) return state.SkipWithError("mapped framebuffer unavailable");
    std::memcpy(m->pixels, frame().bytes.data(), frame().bytes.size());
    source = m->source;
  }
  const DamageRegion damage = scattered(static_cast<int>(state.range(0)));
  for (int i = 0; i < kWarmUp; ++i) {  // untimed: first uses JIT-compile llvmpipe paths
    c->damage(damage);
    (void)c->present(source);
    c->finish();
  }
  std::int64_t damaged = 0, uploaded = 0, rects = 0;
  for (auto _ : state) {
    c->damage(damage);
    auto r = c->present(source);
    if (!r) return state.SkipWithError(to_string(r.error()).c_str());
    c->finish();
    damaged += r->upload.bytes_damaged;
    uploaded += r->upload.bytes_uploaded;
    rects += r->upload.rects;
  }
  state.SetBytesProcessed(damaged);
  state.counters["uploaded_per_damaged_byte"] = damaged > 0 ? static_cast<double>(uploaded) / static_cast<double>(damaged) : 0;
  state.counters["rects_per_frame"] = static_cast<double>(rects) / static_cast<double>(state.iterations());
}

void BM_UploadDamaged(benchmark::State& s) { upload(s, UploadPath::kAuto, false); }
void BM_UploadDamagedOrphan(benchmark::State& s) { upload(s, UploadPath::kOrphanPbo, false); }
void BM_UploadDamagedClient(benchmark::State& s) { upload(s, UploadPath::kClientMemory, false); }
void BM_UploadDamagedMapped(benchmark::State& s) { upload(s, UploadPath::kAuto, true); }
BENCHMARK(BM_UploadDamaged)->Arg(1)->Arg(10)->Arg(100)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_UploadDamagedOrphan)->Arg(10)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_UploadDamagedClient)->Arg(10)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_UploadDamagedMapped)->Arg(10)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_UploadFullFrame(benchmark::State& state) {
  Compositor* c = rig(UploadPath::kFullFrame, false);
  if (c == nullptr) return state.SkipWithError("headless EGL unavailable");
  remove_windows(*c);
  for (int i = 0; i < kWarmUp; ++i) {
    c->damage(DesktopRect{0, 0, 1, 1});
    (void)c->present(frame().view());
    c->finish();
  }
  std::int64_t uploaded = 0;
  for (auto _ : state) {
    c->damage(DesktopRect{0, 0, 1, 1});  // any damage: the naive path uploads everything
    auto r = c->present(frame().view());
    if (!r) return state.SkipWithError(to_string(r.error()).c_str());
    c->finish();
    uploaded += r->upload.bytes_uploaded;
  }
  state.SetBytesProcessed(uploaded);
}
BENCHMARK(BM_UploadFullFrame)->Unit(benchmark::kMicrosecond)->UseRealTime();

VITRINE_BENCH_RATIO("upload 1% damage vs naive full frame (x faster)", "BM_UploadDamaged/1/real_time",
                    "BM_UploadFullFrame/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("upload 10% damage vs naive full frame (x faster)", "BM_UploadDamaged/10/real_time",
                    "BM_UploadFullFrame/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("upload 100% damage vs naive full frame (x faster)", "BM_UploadDamaged/100/real_time",
                    "BM_UploadFullFrame/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("10%: persistent PBO vs orphaned PBO (x faster)", "BM_UploadDamaged/10/real_time",
                    "BM_UploadDamagedOrphan/10/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("10%: persistent PBO vs client memory (x faster)", "BM_UploadDamaged/10/real_time",
                    "BM_UploadDamagedClient/10/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("10%: mapped framebuffer vs persistent PBO (x faster)", "BM_UploadDamagedMapped/10/real_time",
                    "BM_UploadDamaged/10/real_time", Metric::kTimeInverse);

// A text editor with a blinking caret: the producer repaints the caret's whole line (the
// full desktop width, 20 rows) every frame, but only the 2x16 caret changes. Eight windows
// tile the desktop; the line crosses four of them.
void caret(benchmark::State& state, bool hashing) {
  Compositor* c = rig(UploadPath::kAuto, hashing);
  if (c == nullptr) return state.SkipWithError("headless EGL unavailable");
  remove_windows(*c);
  for (WindowId id = 1; id <= 8; ++id) {
    const auto i = static_cast<std::int32_t>(id - 1);
    (void)c->create_window(id, at({(i % 4) * (kW / 4), (i / 4) * (kH / 2), kW / 4, kH / 2}));
  }
  Frame& f = frame();
  std::vector<std::byte> saved(f.bytes);
  (void)c->present(f.view());
  c->finish();
  const DesktopRect line{0, 500, kW, 20};
  const DesktopRect caret_rect{700, 502, 2, 16};
  std::int64_t uploaded = 0, presented = 0;
  bool on = false;
  auto blink = [&] {
    on = !on;
    for (std::int32_t y = caret_rect.y; y < caret_rect.y + caret_rect.height; ++y) {
      for (std::int32_t x = caret_rect.x; x < caret_rect.x + caret_rect.width; ++x) {
        auto* p = f.bytes.data() + static_cast<std::size_t>(y) * kStride + static_cast<std::size_t>(x) * 4;
        p[0] = p[1] = p[2] = on ? std::byte{0} : std::byte{0xff};
      }
    }
  };
  for (int i = 0; i < kWarmUp; ++i) {  // the measured path, untimed
    blink();
    c->damage(line);
    (void)c->present(f.view());
    c->finish();
  }
  for (auto _ : state) {
    blink();
    c->damage(line);
    auto r = c->present(f.view());
    if (!r) return state.SkipWithError(to_string(r.error()).c_str());
    c->finish();
    uploaded += r->upload.bytes_uploaded;
    presented += r->windows_presented;
  }
  f.bytes = saved;
  state.counters["uploaded_bytes_per_frame"] = static_cast<double>(uploaded) / static_cast<double>(state.iterations());
  state.counters["windows_presented_per_frame"] = static_cast<double>(presented) / static_cast<double>(state.iterations());
  remove_windows(*c);
}
void BM_TileHashDedupe(benchmark::State& s) { caret(s, true); }
void BM_TileHashOff(benchmark::State& s) { caret(s, false); }
BENCHMARK(BM_TileHashDedupe)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_TileHashOff)->Unit(benchmark::kMicrosecond)->UseRealTime();
VITRINE_BENCH_RATIO("caret: tile hashing vs none (x faster)", "BM_TileHashDedupe/real_time",
                    "BM_TileHashOff/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("caret: bytes uploaded, tile hashing / none", "BM_TileHashDedupe/real_time",
                    "BM_TileHashOff/real_time", Metric::kCounter, "uploaded_bytes_per_frame");

// n windows tiling the desktop; `damaged` of them get a small damage rectangle each frame.
void present_windows(benchmark::State& state, bool all_damaged) {
  Compositor* c = rig(UploadPath::kAuto, false);
  if (c == nullptr) return state.SkipWithError("headless EGL unavailable");
  remove_windows(*c);
  const auto n = static_cast<std::int32_t>(state.range(0));
  const auto cols = static_cast<std::int32_t>(std::ceil(std::sqrt(static_cast<double>(n))));
  const std::int32_t rows = (n + cols - 1) / cols;
  std::vector<DesktopRect> rects;
  for (std::int32_t i = 0; i < n; ++i) {
    rects.push_back({(i % cols) * (kW / cols), (i / cols) * (kH / rows), kW / cols, kH / rows});
    (void)c->create_window(static_cast<WindowId>(i + 1), at(rects.back()));
  }
  (void)c->present(frame().view());
  c->finish();
  for (int i = 0; i < kWarmUp; ++i) {
    c->damage(rects[0]);
    (void)c->present(frame().view());
    c->finish();
  }
  std::int64_t presented = 0;
  for (auto _ : state) {
    for (std::int32_t i = 0; i < (all_damaged ? n : 1); ++i) {
      c->damage(DesktopRect{rects[static_cast<std::size_t>(i)].x + 8, rects[static_cast<std::size_t>(i)].y + 8, 16, 16});
    }
    auto r = c->present(frame().view());
    if (!r) return state.SkipWithError(to_string(r.error()).c_str());
    c->finish();
    presented += r->windows_presented;
  }
  state.SetItemsProcessed(presented);  // windows drawn per second
  state.counters["windows_presented_per_frame"] = static_cast<double>(presented) / static_cast<double>(state.iterations());
  remove_windows(*c);
}
void BM_PresentWindows(benchmark::State& s) { present_windows(s, true); }
void BM_PresentOneOfMany(benchmark::State& s) { present_windows(s, false); }
BENCHMARK(BM_PresentWindows)->Arg(1)->Arg(8)->Arg(32)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PresentOneOfMany)->Arg(32)->Unit(benchmark::kMicrosecond)->UseRealTime();
VITRINE_BENCH_RATIO("32 windows: damage in one vs in all (x faster)", "BM_PresentOneOfMany/32/real_time",
                    "BM_PresentWindows/32/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("present 32 vs 1 window(s), whole desktop drawn (x faster)", "BM_PresentWindows/32/real_time",
                    "BM_PresentWindows/1/real_time", Metric::kTimeInverse);

// A wxh rectangle of a 1920x1080 window changes every frame: uploaded from the window's own
// surface (`surface`) or from the desktop framebuffer it samples (the baseline). One window, so
// both draw the same pixels; only where they come from differs.
void window_rect_update(benchmark::State& state, bool surface, bool drawn) {
  Compositor* c = rig(UploadPath::kAuto, false);
  if (c == nullptr) return state.SkipWithError("headless EGL unavailable");
  remove_windows(*c);
  const auto w = static_cast<std::int32_t>(state.range(0));
  const auto h = static_cast<std::int32_t>(state.range(1));
  // Off the top-left corner unless it spans the whole frame: rows start mid-stride.
  const std::int32_t x = w < kW ? (kW - w) / 3 : 0, y = h < kH ? (kH - h) / 3 : 0;
  const WindowRect rect{x, y, w, h};
  const PixelSource pixels = frame().view();
  WindowDesc desc = at({0, 0, kW, kH});
  desc.visible = drawn;
  if (!c->create_window(1, desc)) return state.SkipWithError("create_window failed");
  if (surface) {
    if (!c->attach_surface(1, kW, kH)) return state.SkipWithError("attach_surface failed");
    const WindowRect all{0, 0, kW, kH};
    (void)c->upload_surface(1, pixels, std::span(&all, 1));
  }
  (void)c->present(pixels);
  c->finish();
  auto frame_once = [&]() -> Result<std::int64_t> {
    if (surface) {
      auto up = c->upload_surface(1, pixels, std::span(&rect, 1));
      if (!up) return std::unexpected(up.error());
      auto r = c->present();
      if (!r) return std::unexpected(r.error());
      return up->bytes_uploaded;
    }
    c->damage(DesktopRect{x, y, w, h});
    auto r = c->present(pixels);
    if (!r) return std::unexpected(r.error());
    return r->upload.bytes_uploaded;
  };
  for (int i = 0; i < kWarmUp; ++i) {
    (void)frame_once();
    c->finish();
  }
  const CompositorStats before = c->stats();
  std::int64_t uploaded = 0;
  for (auto _ : state) {
    auto bytes = frame_once();
    if (!bytes) return state.SkipWithError(to_string(bytes.error()).c_str());
    c->finish();
    uploaded += *bytes;
  }
  const std::int64_t damaged = std::int64_t{w} * h * 4 * static_cast<std::int64_t>(state.iterations());
  state.SetBytesProcessed(damaged);
  state.counters["uploaded_per_damaged_byte"] = damaged > 0 ? static_cast<double>(uploaded) / static_cast<double>(damaged) : 0;
  state.counters["windows_presented_per_frame"] =
      static_cast<double>(c->stats().windows_presented - before.windows_presented) / static_cast<double>(state.iterations());
  remove_windows(*c);
}
void BM_SurfaceUpload(benchmark::State& s) { window_rect_update(s, true, true); }
void BM_SurfaceBaselineDesktop(benchmark::State& s) { window_rect_update(s, false, true); }
void BM_SurfaceUploadOnly(benchmark::State& s) { window_rect_update(s, true, false); }
void BM_DesktopUploadOnly(benchmark::State& s) { window_rect_update(s, false, false); }
void rect_sizes(benchmark::internal::Benchmark* b) {
  b->Args({64, 64})->Args({256, 256})->Args({960, 540})->Args({1920, 1080});
}
BENCHMARK(BM_SurfaceUpload)->Apply(rect_sizes)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_SurfaceBaselineDesktop)->Apply(rect_sizes)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_SurfaceUploadOnly)->Apply(rect_sizes)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DesktopUploadOnly)->Apply(rect_sizes)->Unit(benchmark::kMicrosecond)->UseRealTime();
VITRINE_BENCH_RATIO("64x64 of a window: surface vs desktop framebuffer (x faster)", "BM_SurfaceUpload/64/64/real_time",
                    "BM_SurfaceBaselineDesktop/64/64/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("256x256 of a window: surface vs desktop framebuffer (x faster)",
                    "BM_SurfaceUpload/256/256/real_time", "BM_SurfaceBaselineDesktop/256/256/real_time",
                    Metric::kTimeInverse);
VITRINE_BENCH_RATIO("960x540 of a window: surface vs desktop framebuffer (x faster)",
                    "BM_SurfaceUpload/960/540/real_time", "BM_SurfaceBaselineDesktop/960/540/real_time",
                    Metric::kTimeInverse);
VITRINE_BENCH_RATIO("whole 1920x1080 window: surface vs desktop framebuffer (x faster)",
                    "BM_SurfaceUpload/1920/1080/real_time", "BM_SurfaceBaselineDesktop/1920/1080/real_time",
                    Metric::kTimeInverse);

VITRINE_BENCH_RATIO("upload only, 256x256: surface vs desktop framebuffer (x faster)",
                    "BM_SurfaceUploadOnly/256/256/real_time", "BM_DesktopUploadOnly/256/256/real_time",
                    Metric::kTimeInverse);
VITRINE_BENCH_RATIO("upload only, 960x540: surface vs desktop framebuffer (x faster)",
                    "BM_SurfaceUploadOnly/960/540/real_time", "BM_DesktopUploadOnly/960/540/real_time",
                    Metric::kTimeInverse);
VITRINE_BENCH_RATIO("upload only, 1920x1080: surface vs desktop framebuffer (x faster)",
                    "BM_SurfaceUploadOnly/1920/1080/real_time", "BM_DesktopUploadOnly/1920/1080/real_time",
                    Metric::kTimeInverse);

}  // namespace
