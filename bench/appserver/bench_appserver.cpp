// bench_appserver: what a frame costs the appserver.
//   BM_Encode/<codec>         encode cost on the same 1024x768 desktop-like content; items =
//                             pixels (items/s = pixels/s), counter bytes_per_mpix = wire size.
//   BM_DamageToWire/<codec>   a client of a real Xvfb draws a 256x256 area; time until the
//                             encoded bytes went through a socket: XDamage event, pump, MIT-SHM
//                             grab, encode, send, receive.
//   BM_Grab/<shm|xgetimage>   reading 512x512 pixels out of the X server.
//   BM_TypingFrame            one key typed into xterm and the resulting frame (planar).
// Same-run ratios at the end (vitrine::bench_main). For callgrind's instruction count per
// frame, bench_appserver_typing N runs the same typing workload alone (docs/appserver.md).
#include <benchmark/benchmark.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench_main.hpp"
#include "rdp/surface_encoder.hpp"
#include "support/xvfb.hpp"
#include "typing_workload.hpp"
#include "x11/x11_capture.hpp"

namespace vitrine::appserver::bench {
namespace {

using rdp::Codec;

constexpr int kW = 1024;
constexpr int kH = 768;

// Desktop-like content: a text area (glyph-sized strokes on white), a photo-like gradient
// with noise, and flat UI chrome. Deterministic.
const std::vector<uint8_t>& desktop_content() {
  static const std::vector<uint8_t> img = [] {
    std::vector<uint8_t> v(size_t(kW) * kH * 4);
    std::mt19937 rng(42);
    for (int y = 0; y < kH; ++y) {
      for (int x = 0; x < kW; ++x) {
        uint32_t c;
        if (y < 24) c = 0x3c3f41;  // title bar
        else if (x < kW / 2) c = (((x / 6) * 7 + (y / 13) * 3) % 5 == 0 && (x % 6) < 4 && (y % 13) > 2 && (y % 13) < 11 && ((x * 31 + y * 17) % 3)) ? 0x000000 : 0xffffff;
        else if (y < kH / 2) c = (uint32_t(x * 255 / kW) << 16) | (uint32_t(y * 255 / kH) << 8) | (rng() & 0x1f);
        else c = 0xececec;
        uint8_t* p = &v[(size_t(y) * kW + size_t(x)) * 4];
        p[0] = uint8_t(c);
        p[1] = uint8_t(c >> 8);
        p[2] = uint8_t(c >> 16);
        p[3] = 0xff;
      }
    }
    return v;
  }();
  return img;
}

void BM_Encode(benchmark::State& state) {
  const auto codec = static_cast<Codec>(state.range(0));
  auto enc = rdp::SurfaceEncoder::create(codec, {0, 0, kW, kH}, 65535);
  if (!enc) {
    state.SkipWithError(enc.error().c_str());
    return;
  }
  const x11::ImageView view{desktop_content().data(), kW * 4, kW, kH};
  size_t bytes = 0;
  for (auto _ : state) {
    (*enc)->clear();
    if (!(*enc)->encode(view, {0, 0, kW, kH})) {
      state.SkipWithError("encode failed");
      return;
    }
    bytes = (*enc)->bytes();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * kW * kH);
  state.counters["bytes_per_mpix"] = double(bytes) / (double(kW) * kH / 1e6);
  state.SetLabel(std::string(rdp::codec_name(codec)));
}
BENCHMARK(BM_Encode)->Arg(int(Codec::kPlanar))->Arg(int(Codec::kRaw))->Arg(int(Codec::kRemoteFx))
    ->Unit(benchmark::kMillisecond)->UseRealTime();  // RemoteFX encodes on a thread pool: CPU time of this thread would flatter it

struct XFixture {
  std::unique_ptr<testing::Xvfb> xvfb;
  std::unique_ptr<x11::X11Capture> capture;
  Window win = 0;
  GC gc = nullptr;
  std::string why;

  explicit XFixture(bool shm) {
    xvfb = testing::Xvfb::start(kW, kH);
    if (!xvfb) {
      why = "Xvfb not available";
      return;
    }
    auto c = x11::X11Capture::open({xvfb->display(), shm});
    if (!c) {
      why = c.error();
      return;
    }
    capture = std::move(*c);
    Display* d = xvfb->connection();
    XSetWindowAttributes a{};
    a.background_pixel = 0xffffff;
    win = XCreateWindow(d, DefaultRootWindow(d), 100, 100, 600, 600, 0, CopyFromParent, InputOutput, CopyFromParent,
                        CWBackPixel, &a);
    XMapWindow(d, win);
    gc = XCreateGC(d, win, 0, nullptr);
    XSync(d, False);
    for (int i = 0; i < 50; ++i) capture->pump();
    capture->damage().clear();
  }
  ~XFixture() {
    if (gc) XFreeGC(xvfb->connection(), gc);
  }
};

void BM_DamageToWire(benchmark::State& state) {
  const auto codec = static_cast<Codec>(state.range(0));
  XFixture fx(true);
  if (!fx.capture) {
    state.SkipWithError(fx.why.c_str());
    return;
  }
  auto enc = rdp::SurfaceEncoder::create(codec, fx.capture->desktop(), 65535);
  int sv[2];
  if (!enc || ::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
    state.SkipWithError("setup failed");
    return;
  }
  Display* d = fx.xvfb->connection();
  std::vector<uint8_t> sink(1 << 20);
  unsigned n = 0;
  size_t wire = 0;
  for (auto _ : state) {
    // The "application": new content in a 256x256 area (alternating text-like pattern).
    XSetForeground(d, fx.gc, (++n & 1) ? 0x000000 : 0x3366cc);
    for (int row = 0; row < 16; ++row) XFillRectangle(d, fx.win, fx.gc, 20 + int(n % 7), 20 + row * 16, 240, 9);
    XFlush(d);
    while (fx.capture->damage().empty()) {
      if (fx.capture->pump() == 0) {
        pollfd p{fx.capture->fd(), POLLIN, 0};
        ::poll(&p, 1, 100);
      }
    }
    (*enc)->clear();
    for (const Rect& raw : fx.capture->damage().rects(fx.capture->desktop(), 128)) {
      const Rect r = align_horizontally(raw, fx.capture->desktop(), 4);
      if (auto img = fx.capture->grabber().grab_screen(r)) (*enc)->encode(*img, r);
    }
    fx.capture->damage().clear();
    // "Wire": through a socket to the other end, as the relay or a TCP client would read it.
    size_t left = (*enc)->bytes();
    const uint8_t* p = (*enc)->data();
    wire = left;
    while (left > 0) {
      const ssize_t w = ::send(sv[0], p, std::min<size_t>(left, 32 * 1024) /* below the socket buffer: one thread sends and receives */, 0);
      if (w <= 0) break;
      size_t got = 0;
      while (got < size_t(w)) got += size_t(std::max<ssize_t>(0, ::recv(sv[1], sink.data(), sink.size(), 0)));
      p += w;
      left -= size_t(w);
    }
  }
  ::close(sv[0]);
  ::close(sv[1]);
  state.counters["wire_bytes"] = double(wire);
  state.SetLabel(std::string(rdp::codec_name(codec)));
}
BENCHMARK(BM_DamageToWire)->Arg(int(Codec::kPlanar))->Arg(int(Codec::kRaw))->Arg(int(Codec::kRemoteFx))
    ->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_Grab(benchmark::State& state) {
  const bool shm = state.range(0) != 0;
  XFixture fx(shm);
  if (!fx.capture) {
    state.SkipWithError(fx.why.c_str());
    return;
  }
  for (auto _ : state) {
    auto img = fx.capture->grabber().grab_screen({100, 100, 512, 512});
    if (!img) {
      state.SkipWithError(img.error().c_str());
      return;
    }
    benchmark::DoNotOptimize(img->data);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 512 * 512);
  state.SetLabel(shm ? "MIT-SHM" : "XGetImage");
}
BENCHMARK(BM_Grab)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_TypingFrame(benchmark::State& state) {
  std::string why;
  auto w = TypingWorkload::start(&why);
  if (!w) {
    state.SkipWithError(why.c_str());
    return;
  }
  size_t bytes = 0;
  for (auto _ : state) bytes += typing_frame(*w);
  state.counters["bytes_per_frame"] = benchmark::Counter(double(bytes), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_TypingFrame)->Unit(benchmark::kMicrosecond)->UseRealTime()->Iterations(200);

using vitrine::bench::Metric;
VITRINE_BENCH_RATIO("encode: planar vs raw (pixels/s)", "BM_Encode/0/real_time", "BM_Encode/1/real_time", Metric::kItemsPerSecond);
VITRINE_BENCH_RATIO("encode: planar vs RemoteFX (pixels/s)", "BM_Encode/0/real_time", "BM_Encode/2/real_time", Metric::kItemsPerSecond);
VITRINE_BENCH_RATIO("wire size: planar vs raw (bytes/MPix)", "BM_Encode/0/real_time", "BM_Encode/1/real_time", Metric::kCounter,
                    "bytes_per_mpix");
VITRINE_BENCH_RATIO("wire size: RemoteFX vs raw (bytes/MPix)", "BM_Encode/2/real_time", "BM_Encode/1/real_time", Metric::kCounter,
                    "bytes_per_mpix");
VITRINE_BENCH_RATIO("damage-to-wire: planar vs raw (speed-up)", "BM_DamageToWire/0/real_time",
                    "BM_DamageToWire/1/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("damage-to-wire: planar vs RemoteFX (speed-up)", "BM_DamageToWire/0/real_time",
                    "BM_DamageToWire/2/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("grab 512x512: MIT-SHM vs XGetImage (speed-up)", "BM_Grab/1/real_time", "BM_Grab/0/real_time",
                    Metric::kTimeInverse);

}  // namespace
}  // namespace vitrine::appserver::bench
