// bench_e2e's QEMU TCG cases: the RAIL test server runs INSIDE a QEMU TCG guest
// (rail_bench_server; tests/hv/qemu/rdp_guest.hpp) and the same FreeRDP client (RdpClient) reaches it
//
//   bus   client -> socketpair -> ConnectionBridge -> HostMux -> ivshmem bus (vitrine-vmm
//         --backend qemu, ivshmem-doorbell) -> vitrine-guest in the guest -> 127.0.0.1:3390
//   net   client -> TCP 127.0.0.1:P -> QEMU user networking (hostfwd) -> virtio-net-pci ->
//         the guest's 10.0.2.15:3390                 (how people reach a VM's RDP server today)
//
// Same measures and payloads as the in-process pair (bench_e2e.cpp): 8 x 256x256 raw
// SurfaceBits per update iteration, one 256x256 stamped paint per input round trip, connect
// until the RAIL handshake is done. The server cannot be called from here, so the client drives
// it over RDP (rail_bench_protocol.hpp): an update iteration starts with one mouse move that asks
// for the batch (its one-way trip is inside the iteration, on both paths alike), and "connected"
// is the client decoding the server's ready paint, sent once the server saw the RAIL handshake.
//
// TCG emulates every guest instruction: fixed, small iteration counts (a full run of these six
// takes a few minutes, the VM's boot included). VITRINE_E2E_QEMU=0 leaves them out (report.py
// --quick does, and says so in its table).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_main.hpp"
#include "latency_counters.hpp"
#include "shared_guest.hpp"
#include "rail_bench_protocol.hpp"
#include "rdp_guest.hpp"
#include "stamp_sink.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace {

using namespace vitrine::rdpmux::host;
using namespace std::chrono_literals;
using vitrine::hv::test::QemuRdpGuest;
using vitrine::ringbus::UniqueFd;
using Clock = std::chrono::steady_clock;
namespace bp = vitrine::testing::bench_protocol;

constexpr int kUpdateIterations = 10;
constexpr int kInputIterations = 40;
constexpr int kConnectIterations = 3;
constexpr int kWarmup = 2;                 // untimed rounds after connecting (first frames are slow)
constexpr auto kTcgPatience = 60000ms;     // one wait for a paint or a handshake under TCG

static_assert(bp::kSide == vitrine::testing::StampSink::kSide);

// The VM, booted by the first QEMU benchmark, shared by all of them, stopped at exit.
using GuestSlot = vitrine::bench::SharedGuest<QemuRdpGuest>;
GuestSlot& slot() { return GuestSlot::get(); }

// One RDP session to the guest's server over one path; `open` returns an error text or empty.
struct RemoteSession {
  vitrine::testing::StampSink sink;          // outlives the client that paints into it
  std::unique_ptr<ConnectionBridge> bridge;  // bus path only
  std::unique_ptr<RdpClient> client;
  double connect_us = 0;

  std::string open(QemuRdpGuest& guest, bool net) {
    const auto start = Clock::now();  // connect time: from opening the connection on
    if (!net) {
      auto conn = guest.mux().open(vitrine::rdpmux::Target::tcp(QemuRdpGuest::kGuestPort),
                                   {.framed = true, .timeout = kTcgPatience});
      if (!conn) return "open through the relay: " + conn.error().message;
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return "socketpair";
      auto b = ConnectionBridge::start(std::move(*conn), UniqueFd(fds[1]));
      if (!b) return "bridge";
      bridge = std::move(*b);
      return handshake(UniqueFd(fds[0]), start);
    }
    UniqueFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(guest.net_port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!c || ::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      return std::string("connect to QEMU's hostfwd: ") + std::strerror(errno);
    const int one = 1;  // as on every other path (xfreerdp sets it too)
    ::setsockopt(c.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return handshake(std::move(c), start);
  }

  std::string handshake(UniqueFd fd, Clock::time_point start) {
    ClientConfig config;
    config.security = Security::kRdp;  // as on the in-process paths: the comparison is the transport
    config.width = bp::kDesktopWidth;
    config.height = bp::kDesktopHeight;
    auto c = RdpClient::start(config, std::move(fd), sink, sink);
    if (!c) return "client: " + to_string(c.error());
    client = std::move(*c);
    if (auto up = client->wait_connected(kTcgPatience); !up) return "connect: " + to_string(up.error());
    if (!sink.wait_stamp(bp::kReadyStamp, kTcgPatience)) return "the server's ready paint did not arrive";
    connect_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    return {};
  }

  ~RemoteSession() {
    if (client) client->stop();
    client.reset();
    bridge.reset();
  }
};

// Opens a session or reports why not; null when the benchmark must stop.
std::unique_ptr<RemoteSession> open_or_skip(benchmark::State& state, bool net) {
  GuestSlot& s = slot();
  if (!s.guest) {
    state.SkipWithError(("no QEMU guest: " + s.error).c_str());
    return nullptr;
  }
  auto session = std::make_unique<RemoteSession>();
  if (auto e = session->open(*s.guest, net); !e.empty()) {
    state.SkipWithError(e.c_str());
    return nullptr;
  }
  return session;
}

void updates(benchmark::State& state, bool net) {
  auto s = open_or_skip(state, net);
  if (!s) return;
  std::int32_t k = 0;
  const auto batch = [&] {
    ++k;
    const DesktopPoint at{1 + k % 1000, bp::kTriggerTop + (k / 1000) % (bp::kDesktopHeight - bp::kTriggerTop)};
    s->client->mouse_move(at);
    return s->sink.wait_stamp(bp::batch_stamp(bp::batch_index(at.x, at.y), bp::kBatch - 1), kTcgPatience);
  };
  if (!vitrine::bench::warm_up(state, kWarmup, batch, "a warm-up batch did not arrive")) return;
  if (!vitrine::bench::run_steps(state, batch, "the last update of a batch did not arrive")) return;
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * bp::kBatch * bp::kSide * bp::kSide * 4);
  if (!net) state.counters["vm_boot_s"] = slot().guest->boot_seconds();
}

void input_to_paint(benchmark::State& state, bool net) {
  auto s = open_or_skip(state, net);
  if (!s) return;
  std::int32_t n = 0;
  // The same positions as the in-process benchmark: never one sent before in this session.
  const auto round_trip = [&]() -> double {
    ++n;
    const DesktopPoint at{1 + n % 900, 1 + (n / 900) % 700};
    const auto start = Clock::now();
    s->client->mouse_move(at);
    if (!s->sink.wait_stamp(bp::probe_stamp(at.x, at.y), kTcgPatience)) return -1;
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  };
  if (!vitrine::bench::warm_up(state, kWarmup, [&] { return round_trip() >= 0; }, "a warm-up paint did not arrive"))
    return;
  if (!vitrine::bench::time_round_trips(state, round_trip, "the input or its paint did not arrive")) return;
}

void connect(benchmark::State& state, bool net) {
  for (auto _ : state) {
    auto s = open_or_skip(state, net);
    if (!s) return;
    state.SetIterationTime(s->connect_us / 1e6);
  }
  // Diagnostic beside the bus's connect time: a control-channel round trip (host -> guest ->
  // host, no RDP). The guest learns of host records by polling with back-off (no interrupt
  // reaches its user space; docs/hv.md), and a handshake is a dozen such round trips.
  if (!net && slot().guest) {
    std::vector<double> us;
    for (int i = 0; i < 20; ++i)
      if (auto rtt = slot().guest->mux().ping(kTcgPatience))
        us.push_back(std::chrono::duration<double, std::micro>(*rtt).count());
    std::sort(us.begin(), us.end());
    if (!us.empty()) state.counters["bus_ping_p50_us"] = us[us.size() / 2];
  }
}

bool register_qemu_cases() {
  if (const char* env = std::getenv("VITRINE_E2E_QEMU"); env != nullptr && env[0] == '0') return false;
  using benchmark::RegisterBenchmark;
  RegisterBenchmark("BM_UpdatesQemuBus", [](benchmark::State& s) { updates(s, false); })
      ->Unit(benchmark::kMicrosecond)->UseRealTime()->Iterations(kUpdateIterations);
  RegisterBenchmark("BM_UpdatesQemuNet", [](benchmark::State& s) { updates(s, true); })
      ->Unit(benchmark::kMicrosecond)->UseRealTime()->Iterations(kUpdateIterations);
  RegisterBenchmark("BM_InputToPaintQemuBus", [](benchmark::State& s) { input_to_paint(s, false); })
      ->Unit(benchmark::kMicrosecond)->UseRealTime()->Iterations(kInputIterations);
  RegisterBenchmark("BM_InputToPaintQemuNet", [](benchmark::State& s) { input_to_paint(s, true); })
      ->Unit(benchmark::kMicrosecond)->UseRealTime()->Iterations(kInputIterations);
  RegisterBenchmark("BM_ConnectQemuBus", [](benchmark::State& s) { connect(s, false); })
      ->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(kConnectIterations);
  RegisterBenchmark("BM_ConnectQemuNet", [](benchmark::State& s) { connect(s, true); })
      ->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(kConnectIterations);
  return true;
}

[[maybe_unused]] const bool g_registered = register_qemu_cases();

using vitrine::bench::Metric;
// Labels start with "QEMU TCG:" (report.py groups them under that headline).
VITRINE_BENCH_RATIO("QEMU TCG: update throughput, ivshmem bus vs virtio-net", "BM_UpdatesQemuBus/iterations:10/real_time",
                    "BM_UpdatesQemuNet/iterations:10/real_time", Metric::kBytesPerSecond);
VITRINE_BENCH_RATIO("QEMU TCG: input-to-paint p50, virtio-net / bus (x faster over the bus)",
                    "BM_InputToPaintQemuNet/iterations:40/real_time", "BM_InputToPaintQemuBus/iterations:40/real_time",
                    Metric::kCounter, "p50_us");
VITRINE_BENCH_RATIO("QEMU TCG: input-to-paint p99, virtio-net / bus (x faster over the bus)",
                    "BM_InputToPaintQemuNet/iterations:40/real_time", "BM_InputToPaintQemuBus/iterations:40/real_time",
                    Metric::kCounter, "p99_us");
VITRINE_BENCH_RATIO("QEMU TCG: connect time, ivshmem bus vs virtio-net (x faster)",
                    "BM_ConnectQemuBus/iterations:3/manual_time", "BM_ConnectQemuNet/iterations:3/manual_time",
                    Metric::kTimeInverse);

}  // namespace
