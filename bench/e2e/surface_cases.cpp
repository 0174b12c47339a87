// bench_e2e's surface cases: the same two workloads as BM_Updates* / BM_InputToPaint* in
// bench_e2e.cpp, with the window's pixels carried as a bus surface (design.md "Two pixel paths")
// instead of RDP, every piece real and each in the process it has in the product:
//
//   guest (SurfaceGuest)   Xvfb; vitrine-appserver and vitrine-guest, the built binaries, on the
//                          demo's bus (memfd at fd 3, doorbells at 4,5; 96 MiB surface pool);
//                          the application is StampWindow, an X client of that Xvfb (this process,
//                          its own X connection) painting a 256x256 window with MIT-SHM PutImage
//   host (SurfaceHost)     HostMux, ConnectionBridge, RdpClient (RemoteApp over the bus through the
//                          relay: window orders and input), SurfaceReceiver -> SurfacePump ->
//                          Compositor on headless EGL (Mesa llvmpipe): upload_surface() from pool
//                          memory, present(); the benchmark thread is the host's UI thread
//
// Why this harness: it runs the product's guest programs unchanged and the host pieces that
// RemoteDisplay wires, in RemoteDisplay's order; it cannot use RemoteDisplay itself only because
// the stamp must be checked in the pixels the host read, which exist only inside the receiver's
// sink call (surface_host.hpp: StampProbe). The sandbox's namespaces are left out
// (surface_guest.hpp): they touch no byte of the data path.
//
//   BM_UpdatesSurfaceBus       8 back-to-back paints of the whole 256x256 window, each with a new
//                              stamp in its last pixel; the iteration ends when the host uploaded
//                              a Present whose damage covers that pixel and whose pool pixel holds
//                              the last stamp (a stale frame cannot count). In the loop: the X
//                              server's copy into the window, XDamage -> the appserver's turn ->
//                              ShmGetImage into a pool buffer -> Present on the bus -> the host's
//                              UI loop finds it (the appserver never rings the host's doorbell
//                              for surfaces, so the loop looks every 1 ms: surface_host.cpp,
//                              kNoDoorbellPeriod) -> receive -> glTexSubImage2D from the pool ->
//                              present() + finish() (the draw, which the RDP cases do not do:
//                              they end at the decode)
//                              -> Released back to the guest. bytes/s: the damaged bytes painted
//                              (8 x 256 x 256 x 4 per iteration) as the RDP cases; the appserver
//                              may fold several paints into one Present (presented_per_painted).
//   BM_InputToPaintSurfaceBus  RdpClient::mouse_move -> bridge -> bus -> relay -> appserver ->
//                              XTest -> the X client's MotionNotify -> it paints a stamp made of the
//                              motion's position -> ... -> the host uploaded that stamp; each
//                              sample ends right after that upload (p50_us, p99_us).
//   BM_*AppserverRdpBus        the same two workloads, same X app, X server, appserver and bus,
//                              with the appserver's --no-surfaces: the window's pixels as RDP
//                              (planar, lossless), ending when FreeRDP decoded the stamp. The RDP
//                              cases of bench_e2e.cpp have no X server at all (their test server
//                              paints in process), so this pair is the like-for-like comparison.
//
// Counters (deltas over the run, from the counters the code keeps):
//   host_copies_per_byte    Compositor surface_bytes_uploaded (bytes handed to one
//                           glTexSubImage2D each) / SurfaceReceiver bytes_presented
//   presented_per_painted   SurfaceReceiver bytes_presented / damaged bytes the client painted
//   presents_per_iter, rdp_paints (RDP paints the client decoded during the run: 0 or 1 seen;
//                           the surface window's pixels need none),
//   p50_iter_us (updates: the median iteration beside the mean)
//   p50_to_present_us, p50_present_to_read_us, p50_read_to_upload_us: each sample split at the
//                           appserver's Present and the host's read (CLOCK_MONOTONIC on both
//                           sides: one machine), from the first paint (updates) or the input
//   guest_zero_copy         1 when the appserver logged "zero-copy true" (its X server writes
//                           the pool itself), 0 when "false", -1 no line
//   guest_copies_per_byte   counted by the appserver (SIGUSR1 asks it to log its counters):
//                           (bytes the X server wrote into the pool + bytes copied in user
//                           space) / bytes presented. The X server's ShmGetImage is the one
//                           copy; it reads whole rows of the damage's band, so this is >= 1
//   guest_user_copies_per_byte  bytes the appserver copied in user space / bytes presented
//                           (0 on the zero-copy path; -1: the counters could not be read)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench_main.hpp"
#include "latency_counters.hpp"
#include "stamp_window.hpp"
#include "surface_counters.hpp"
#include "surface_guest.hpp"
#include "surface_host.hpp"

namespace {

using namespace std::chrono_literals;
using vitrine::bench::StampWindow;
using Clock = std::chrono::steady_clock;

constexpr int kSide = StampWindow::kSide;
constexpr int kBatch = 8;
static_assert(kBatch <= StampWindow::kSlots, "a batch may not rewrite an image the X server may still read");
// The window's place on the guest desktop; no window manager moves it.
constexpr int kWindowX = 64;
constexpr int kWindowY = 64;

struct SurfaceRig {
  std::unique_ptr<vitrine::bench::SurfaceGuest> guest;
  std::unique_ptr<StampWindow> window;
  std::unique_ptr<vitrine::bench::SurfaceHost> host;  // declared last: goes first

  bool surfaces = true;

  // Empty on success, else why the benchmark cannot run. `with_surfaces` false: the appserver
  // sends this window's pixels over RDP (--no-surfaces), the stamp is read from FreeRDP's decode.
  std::string open(bool with_surfaces) {
    surfaces = with_surfaces;
    const auto logs = std::filesystem::temp_directory_path() / ("vitrine-bench-surfaces-" + std::to_string(::getpid()));
    auto g = vitrine::bench::SurfaceGuest::start(logs, surfaces);
    if (!g) return g.error();
    guest = std::move(*g);
    auto w = StampWindow::open(guest->display(), kWindowX, kWindowY);
    if (!w) return w.error();
    window = std::move(*w);
    auto& bus = guest->bus();
    const vitrine::bench::StampSpot spot{static_cast<std::uint32_t>(window->window()), kSide - 1, kSide - 1, kWindowX,
                                         kWindowY};
    auto h = vitrine::bench::SurfaceHost::start(bus.bus(), bus.wake_guest().fd(), bus.wake_host().fd(), guest->rdp_target(),
                                                spot);
    if (!h) return h.error() + " (guest logs in " + logs.string() + ")";
    host = std::move(*h);
    // Ready once the window's first full Present was uploaded (its surface exists on both sides),
    // or, without surfaces, once a first stamp went through RDP.
    if (surfaces && !host->run_until([&] { return host->seen().sequence != 0; }, 20s))
      return "the window's surface never reached the host (guest logs in " + logs.string() + ")";
    if (!surfaces) {
      const std::uint32_t warm = next_stamp_value();
      window->paint(warm);
      if (!host->run_until([&] { return host->rdp_stamp() == warm; }, 20s))
        return "the window's pixels never reached the host over RDP (guest logs in " + logs.string() + ")";
    }
    return {};
  }

  // The stamp the host last got through the path under test.
  std::uint32_t stamp() const { return surfaces ? host->seen().stamp : host->rdp_stamp(); }

  static std::uint32_t next_stamp_value() {
    static std::uint32_t n = 0;
    // Never 0 (the unpainted pixel) and never 0x80xxxx (StampWindow::stamp_for_motion's range).
    return ((++n * 2654435761u) & 0x7FFFFF) | 1u;
  }
};

// Where the time of each sample went, by CLOCK_MONOTONIC (std::chrono::steady_clock here):
// start -> the appserver's Present (guest) -> the host's read (the loop found it) -> upload done.
struct Stages {
  std::vector<double> to_present_us, to_read_us, to_upload_us;
  void add(Clock::time_point start, const vitrine::bench::SeenStamp& seen) {
    const auto ns = [](Clock::time_point t) {
      return double(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
    };
    to_present_us.push_back((double(seen.presented_ns) - ns(start)) / 1e3);
    to_read_us.push_back((double(seen.read_ns) - double(seen.presented_ns)) / 1e3);
    to_upload_us.push_back((ns(seen.at) - double(seen.read_ns)) / 1e3);
  }
  static double p50(std::vector<double> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
    return v[v.size() / 2];
  }
  void report(benchmark::State& state) const {
    state.counters["p50_to_present_us"] = p50(to_present_us);
    state.counters["p50_present_to_read_us"] = p50(to_read_us);
    state.counters["p50_read_to_upload_us"] = p50(to_upload_us);
  }
};

std::uint32_t next_stamp() { return SurfaceRig::next_stamp_value(); }

void report_counters(benchmark::State& state, SurfaceRig& rig, const vitrine::bench::SurfaceHostCounters& before,
                     double painted_bytes) {
  const auto after = rig.host->counters();
  state.counters["rdp_paints"] = double(after.rdp.paints - before.rdp.paints);
  vitrine::bench::report_surface_counters(state, before, after, painted_bytes, rig.guest->zero_copy_logged(),
                                          rig.guest->guest_copies());
}

void updates(benchmark::State& state, bool surfaces) {
  SurfaceRig rig;
  if (auto e = rig.open(surfaces); !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  auto& host = *rig.host;
  const auto before = host.counters();
  Stages stages;
  std::vector<double> iteration_us;
  for (auto _ : state) {
    const auto start = Clock::now();
    std::uint32_t stamp = 0;
    for (int i = 0; i < kBatch; ++i) {
      stamp = next_stamp();
      rig.window->paint(stamp);
    }
    if (!host.run_until([&] { return rig.stamp() == stamp; }, 10s)) {
      state.SkipWithError(rig.guest->running() ? "the last paint did not reach the host" : "a guest program died");
      return;
    }
    if (surfaces) stages.add(start, host.seen());
    iteration_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  // The typical iteration beside the mean (the time column): on a shared 2-core machine the mean
  // carries the scheduler's tail.
  state.counters["p50_iter_us"] = Stages::p50(iteration_us);
  const double painted = double(state.iterations()) * kBatch * kSide * kSide * 4;
  state.SetBytesProcessed(static_cast<std::int64_t>(painted));
  if (!surfaces) return;
  stages.report(state);
  report_counters(state, rig, before, painted);
}

void input_to_paint(benchmark::State& state, bool surfaces) {
  SurfaceRig rig;
  if (auto e = rig.open(surfaces); !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  auto& host = *rig.host;
  const auto before = host.counters();
  StampWindow::Responder responder(*rig.window);  // the window's X connection is its thread's now
  std::vector<double> us;
  Stages stages;
  std::int32_t n = 0;
  for (auto _ : state) {
    // A position not sent before (within a run), so the stamp names this move only.
    ++n;
    const int dx = 1 + n % 250;
    const int dy = 1 + (n / 250) % 250;
    const std::uint32_t want = StampWindow::stamp_for_motion(dx, dy);
    const auto start = Clock::now();
    host.client().mouse_move({kWindowX + dx, kWindowY + dy});
    if (!host.run_until([&] { return rig.stamp() == want; }, 10s)) {
      state.SkipWithError(rig.guest->running() ? "the input or its paint did not reach the host" : "a guest program died");
      return;
    }
    // Surfaces: the upload's own time stamp; RDP: when this thread saw the decoded stamp (the
    // RDP cases of bench_e2e.cpp end the same way, at a wait on the decode).
    const auto end = surfaces ? host.seen().at : Clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    if (surfaces) stages.add(start, host.seen());
  }
  vitrine::bench::set_latency_counters(state, std::move(us));
  if (!surfaces) return;
  stages.report(state);
  report_counters(state, rig, before, double(state.iterations()) * kSide * kSide * 4);
}

void BM_UpdatesSurfaceBus(benchmark::State& state) { updates(state, true); }
void BM_UpdatesAppserverRdpBus(benchmark::State& state) { updates(state, false); }
void BM_InputToPaintSurfaceBus(benchmark::State& state) { input_to_paint(state, true); }
void BM_InputToPaintAppserverRdpBus(benchmark::State& state) { input_to_paint(state, false); }

BENCHMARK(BM_UpdatesSurfaceBus)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_UpdatesAppserverRdpBus)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_InputToPaintSurfaceBus)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_InputToPaintAppserverRdpBus)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.5);

using vitrine::bench::Metric;
// Issue 15's targets: surfaces >= 10x RDP-over-veth update throughput; input-to-paint p50 <= 0.2x
// veth's (a veth/surface ratio >= 5).
VITRINE_BENCH_RATIO("update throughput: surfaces vs RDP over guest network (veth)",
                    "BM_UpdatesSurfaceBus/min_time:0.500/real_time", "BM_UpdatesVeth/min_time:0.500/real_time",
                    Metric::kBytesPerSecond, "", 10.0);
VITRINE_BENCH_RATIO("update throughput: surfaces vs RDP over the bus", "BM_UpdatesSurfaceBus/min_time:0.500/real_time",
                    "BM_UpdatesBus/min_time:0.500/real_time", Metric::kBytesPerSecond);
VITRINE_BENCH_RATIO("input-to-paint p50: veth / surfaces (x faster with surfaces)",
                    "BM_InputToPaintVeth/min_time:0.500/real_time", "BM_InputToPaintSurfaceBus/min_time:0.500/real_time",
                    Metric::kCounter, "p50_us", 5.0);
VITRINE_BENCH_RATIO("input-to-paint p50: RDP over the bus / surfaces (x faster with surfaces)",
                    "BM_InputToPaintBus/min_time:0.500/real_time", "BM_InputToPaintSurfaceBus/min_time:0.500/real_time",
                    Metric::kCounter, "p50_us");
// The same application, X server and appserver with and without surfaces: what surfaces buy
// the product (the RDP cases above have no X server: their test server paints in process).
VITRINE_BENCH_RATIO("update throughput: surfaces vs the appserver's RDP pixels (same X app, bus)",
                    "BM_UpdatesSurfaceBus/min_time:0.500/real_time", "BM_UpdatesAppserverRdpBus/min_time:0.500/real_time",
                    Metric::kBytesPerSecond);
VITRINE_BENCH_RATIO("input-to-paint p50: appserver RDP pixels / surfaces (same X app, bus)",
                    "BM_InputToPaintAppserverRdpBus/min_time:0.500/real_time",
                    "BM_InputToPaintSurfaceBus/min_time:0.500/real_time", Metric::kCounter, "p50_us");

}  // namespace
