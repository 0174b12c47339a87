// bench_e2e's QEMU TCG surface cases (issue 15): the sandbox surface cases' workloads
// (surface_cases.cpp) with the guest inside a QEMU TCG VM (tests/hv/qemu/qemu_surface_guest.hpp):
//
//   guest (QEMU TCG, vitrine-vmm --backend qemu, ivshmem-doorbell bus with a 32 MiB surface pool)
//     Xvfb; hv_surface_stamp_app (StampWindow, the sandbox cases' X client, as a program);
//     vitrine-appserver --ivshmem auto (its X server attaches the BAR for MIT-SHM) and vitrine-guest
//   host (SurfaceHost, as in the sandbox cases)
//     HostMux + ConnectionBridge + RdpClient (RemoteApp over the bus: window orders, input);
//     SurfaceReceiver -> StampProbe -> SurfacePump -> Compositor (headless EGL, llvmpipe)
//
// The application is in the VM, so the host drives it by pointer motion as the RDP QEMU cases
// drive rail_bench_server (qemu_cases.cpp; tests/hv/qemu/surface_stamp_protocol.hpp):
//   BM_UpdatesQemuSurface       one mouse move into the window's trigger band -> the application
//                               paints 8 x the whole 256x256 window (MIT-SHM PutImage); the
//                               iteration ends when the host uploaded a Present whose pool pixel
//                               holds the 8th stamp. Bytes: 8 x 256 x 256 x 4 per iteration, the
//                               RDP QEMU cases' payload; its mouse move's one-way trip is inside
//                               the iteration on both sides of the ratio.
//   BM_InputToPaintQemuSurface  mouse move -> ... -> XTest -> the application's MotionNotify ->
//                               one stamped paint -> ... -> the host uploaded that stamp
//                               (p50_us, p99_us; each sample ends right after the upload).
// Fixed iteration counts as the RDP QEMU cases (TCG emulates every guest instruction).
// Counters: vm_boot_s; host_copies_per_byte, presented_per_painted, presents_per_iter (as in
// surface_cases.cpp); guest_zero_copy (1: the guest's X server wrote the pool through the BAR,
// 0: the appserver's counted fallback copy, -1: no line); guest_copies_per_byte and
// guest_user_copies_per_byte from the counters the appserver logs when the session ends (a host
// cannot send a guest process SIGUSR1; -1: no line). The sandbox cases' stage split is left out:
// the guest's CLOCK_MONOTONIC is not the host's.
// The VM is booted by the first of these cases and kept to the end, beside the RDP QEMU cases'
// VM. VITRINE_E2E_QEMU=0 leaves these out as it leaves those out.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_main.hpp"
#include "latency_counters.hpp"
#include "shared_guest.hpp"
#include "qemu_surface_guest.hpp"
#include "rdp_guest.hpp"
#include "surface_counters.hpp"
#include "surface_host.hpp"
#include "surface_stamp_protocol.hpp"

namespace {

using namespace std::chrono_literals;
using vitrine::hv::test::QemuSurfaceGuest;
using Clock = std::chrono::steady_clock;
namespace ss = vitrine::hv::test::surface_stamp;

constexpr int kUpdateIterations = 10;  // as BM_UpdatesQemu{Bus,Net}
constexpr int kInputIterations = 40;   // as BM_InputToPaintQemu{Bus,Net}
constexpr int kWarmup = 2;
constexpr auto kTcgPatience = 60000ms;

// The VM, booted by the first QEMU benchmark, shared by all of them, stopped at exit.
using GuestSlot = vitrine::bench::SharedGuest<QemuSurfaceGuest>;
GuestSlot& slot() {
  // The RDP cases' VM is done by now (they run first); idle under TCG it would still take CPU
  // from this one.
  vitrine::bench::SharedGuest<vitrine::hv::test::QemuRdpGuest>::stop();
  return GuestSlot::get();
}

// One RemoteApp session with the surface reader; null (and the benchmark skipped) on failure.
std::unique_ptr<vitrine::bench::SurfaceHost> open_or_skip(benchmark::State& state) {
  GuestSlot& s = slot();
  if (!s.guest) {
    state.SkipWithError(("no QEMU surface guest: " + s.error).c_str());
    return nullptr;
  }
  auto& bus = s.guest->bus();
  const vitrine::bench::StampSpot spot{s.guest->window(), ss::kSide - 1, ss::kSide - 1, ss::kWindowX, ss::kWindowY};
  auto h = vitrine::bench::SurfaceHost::start(bus.bus(), bus.wake_guest().fd(), bus.wake_host().fd(),
                                              vitrine::rdpmux::Target::tcp(QemuSurfaceGuest::kGuestPort), spot);
  if (!h) {
    state.SkipWithError(("surface host: " + h.error()).c_str());
    return nullptr;
  }
  // Ready once the window's surface exists on both sides and a first Present was uploaded.
  if (!(*h)->run_until([&] { return (*h)->seen().sequence != 0; }, kTcgPatience)) {
    state.SkipWithError("the window's surface never reached the host");
    return nullptr;
  }
  return std::move(*h);
}

// Ends the session (the appserver then logs its counters) and reports the guest's copies.
void finish(benchmark::State& state, std::unique_ptr<vitrine::bench::SurfaceHost> host,
            const vitrine::bench::SurfaceHostCounters& before, double painted_bytes) {
  const auto after = host->counters();
  state.counters["vm_boot_s"] = slot().guest->boot_seconds();
  QemuSurfaceGuest& g = *slot().guest;
  const std::size_t lines = g.copies_lines();
  host.reset();  // the RDP session ends: the appserver logs its counters for the session
  const auto until = Clock::now() + 10s;
  while (g.copies_lines() == lines && Clock::now() < until) std::this_thread::sleep_for(50ms);
  vitrine::bench::report_surface_counters(state, before, after, painted_bytes, g.zero_copy_logged(),
                                          g.copies_lines() > lines ? g.last_copies() : std::nullopt);
}

void updates(benchmark::State& state) {
  auto host = open_or_skip(state);
  if (!host) return;
  std::int32_t k = 0;
  const auto batch = [&] {
    ++k;  // a position not used before in this session, inside the trigger band
    const int x = k % ss::kSide;
    const int y = ss::kTriggerTop + (k / ss::kSide) % (ss::kSide - ss::kTriggerTop);
    const std::uint32_t last = ss::batch_stamp(x, y, ss::kBatch - 1);
    host->client().mouse_move({ss::kWindowX + x, ss::kWindowY + y});
    return host->run_until([&] { return host->seen().stamp == last; }, kTcgPatience);
  };
  if (!vitrine::bench::warm_up(state, kWarmup, batch, "a warm-up batch did not arrive")) return;
  const auto before = host->counters();
  if (!vitrine::bench::run_steps(state, batch, "the last update of a batch did not arrive")) return;
  const double painted = double(state.iterations()) * ss::kBatch * ss::kSide * ss::kSide * 4;
  state.SetBytesProcessed(static_cast<std::int64_t>(painted));
  finish(state, std::move(host), before, painted);
}

void input_to_paint(benchmark::State& state) {
  auto host = open_or_skip(state);
  if (!host) return;
  std::int32_t n = 0;
  const auto round_trip = [&]() -> double {
    ++n;  // a position not sent before in this session, above the trigger band
    const int x = 1 + n % 250;
    const int y = 1 + (n / 250) % (ss::kTriggerTop - 1);
    const std::uint32_t want = ss::probe_stamp(x, y);
    const auto start = Clock::now();
    host->client().mouse_move({ss::kWindowX + x, ss::kWindowY + y});
    if (!host->run_until([&] { return host->seen().stamp == want; }, kTcgPatience)) return -1;
    return std::chrono::duration<double, std::micro>(host->seen().at - start).count();
  };
  if (!vitrine::bench::warm_up(state, kWarmup, [&] { return round_trip() >= 0; }, "a warm-up paint did not arrive"))
    return;
  const auto before = host->counters();
  if (!vitrine::bench::time_round_trips(state, round_trip, "the input or its paint did not arrive")) return;
  finish(state, std::move(host), before, double(state.iterations()) * ss::kSide * ss::kSide * 4);
}

bool register_qemu_surface_cases() {
  if (const char* env = std::getenv("VITRINE_E2E_QEMU"); env != nullptr && env[0] == '0') return false;
  using benchmark::RegisterBenchmark;
  RegisterBenchmark("BM_UpdatesQemuSurface", [](benchmark::State& s) { updates(s); })
      ->Unit(benchmark::kMicrosecond)->UseRealTime()->Iterations(kUpdateIterations);
  RegisterBenchmark("BM_InputToPaintQemuSurface", [](benchmark::State& s) { input_to_paint(s); })
      ->Unit(benchmark::kMicrosecond)->UseRealTime()->Iterations(kInputIterations);
  return true;
}

[[maybe_unused]] const bool g_registered = register_qemu_surface_cases();

using vitrine::bench::Metric;
// Issue 15's targets: surfaces >= 5x virtio-net's update throughput; input-to-paint p50 <= 0.5x
// virtio-net's (a net/surface ratio >= 2). "QEMU TCG:" groups them with the RDP QEMU ratios.
VITRINE_BENCH_RATIO("QEMU TCG: update throughput, surfaces over ivshmem vs RDP over virtio-net",
                    "BM_UpdatesQemuSurface/iterations:10/real_time", "BM_UpdatesQemuNet/iterations:10/real_time",
                    Metric::kBytesPerSecond, "", 5.0);
VITRINE_BENCH_RATIO("QEMU TCG: input-to-paint p50, virtio-net / surfaces (x faster with surfaces)",
                    "BM_InputToPaintQemuNet/iterations:40/real_time", "BM_InputToPaintQemuSurface/iterations:40/real_time",
                    Metric::kCounter, "p50_us", 2.0);
VITRINE_BENCH_RATIO("QEMU TCG: update throughput, surfaces vs RDP pixels, both over ivshmem",
                    "BM_UpdatesQemuSurface/iterations:10/real_time", "BM_UpdatesQemuBus/iterations:10/real_time",
                    Metric::kBytesPerSecond);
VITRINE_BENCH_RATIO("QEMU TCG: input-to-paint p50, RDP over ivshmem / surfaces (x faster with surfaces)",
                    "BM_InputToPaintQemuBus/iterations:40/real_time", "BM_InputToPaintQemuSurface/iterations:40/real_time",
                    Metric::kCounter, "p50_us");

}  // namespace
