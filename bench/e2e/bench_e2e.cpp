// bench_e2e: the headline of the report: RDP over Vitrine's bus vs RDP over the guest network
// path, same RAIL test server (tests/support), same FreeRDP client (RdpClient), same run.
//
//   bus   client -> socketpair -> ConnectionBridge -> HostMux / shared-memory bus -> the guest
//         relay (io_uring, PDU framing) -> TCP loopback -> server        (the product's path)
//   veth  client -> TCP -> veth pair -> network namespace -> server     (the sandbox's analogue
//         of RDP to a VM over its virtual NIC: the way people run VM applications today)
//
// Per path:
//   BM_Updates*       update throughput: 8 back-to-back 256x256 raw SurfaceBits updates per
//                     iteration, timed until the client decoded the last one (bytes/s of pixels)
//   BM_InputToPaint*  round trip: client mouse move -> server sees it -> server paints a stamp ->
//                     client decoded the stamp (p50/p99 in microseconds)
//   BM_Connect*       connect time: TCP/bus connection opened -> RDP + RAIL handshake done
// The veth benchmarks need root (ip netns); without it they report why (SkipWithError) and
// their ratios are left out of the table. The same three measures with the server inside a
// QEMU TCG guest (ivshmem bus vs virtio-net) are in qemu_cases.cpp.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "bench_main.hpp"
#include "latency_counters.hpp"
#include "netns_veth.hpp"
#include "rail_test_server.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "relay_loop.hpp"
#include "stamp_sink.hpp"

namespace {

using namespace vitrine::rdpmux::host;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using vitrine::ringbus::UniqueFd;
constexpr std::uint32_t kSide = 256;
constexpr int kBatch = 8;

using Sink = vitrine::testing::StampSink;

// The bus path: the in-process relay loop (tests/support RelayLoop) and one bridge (declared
// after the loop: destroyed before it).
struct BusPath {
  std::unique_ptr<vitrine::testing::RelayLoop> loop;
  std::unique_ptr<ConnectionBridge> bridge;
};

UniqueFd listen_loopback(std::uint16_t& port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd.get(), 4) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return UniqueFd();
  port = ntohs(a.sin_port);
  return fd;
}

// One RDP session over one path. `open` returns an error text or empty.
struct Session {
  std::unique_ptr<BusPath> bus;
  std::unique_ptr<vitrine::testing::RailTestServer> server;
  Sink sink;
  std::unique_ptr<RdpClient> client;
  double connect_us = 0;

  std::string open_bus() {
    bus = std::make_unique<BusPath>();
    auto loop = vitrine::testing::RelayLoop::start(2, 21);
    if (!loop) return loop.error();
    bus->loop = std::move(*loop);
    std::uint16_t port = 0;
    UniqueFd listener = listen_loopback(port);
    if (!listener) return "listen";
    const auto start = Clock::now();  // connect time: from opening the connection on
    auto conn = bus->loop->mux().open(vitrine::rdpmux::Target::tcp(port), {.framed = true, .timeout = 5000ms});
    if (!conn) return "open through the relay";
    UniqueFd server_fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    int fds[2];
    if (!server_fd || ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return "accept";
    // As on the veth path (and as RDP servers do): the relay's end sets it too.
    const int one = 1;
    ::setsockopt(server_fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto bridge = ConnectionBridge::start(std::move(*conn), UniqueFd(fds[1]));
    if (!bridge) return "bridge";
    bus->bridge = std::move(*bridge);
    return handshake(UniqueFd(fds[0]), std::move(server_fd), start);
  }

  std::string open_veth(const vitrine::bench::NetnsVeth& ns) {
    std::uint16_t port = 0;
    auto listener = ns.listen_inside(port);
    if (!listener) return listener.error();
    const auto start = Clock::now();
    UniqueFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ns.inside_address().c_str(), &a.sin_addr);
    if (::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      return std::string("connect over the veth pair: ") + std::strerror(errno);
    UniqueFd server_fd(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!server_fd) return "accept inside the namespace";
    // What an RDP client and server set on a network path (xfreerdp and termsrv both do).
    const int one = 1;
    ::setsockopt(c.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(server_fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return handshake(std::move(c), std::move(server_fd), start);
  }

  std::string handshake(UniqueFd client_fd, UniqueFd server_fd, Clock::time_point start) {
    server = vitrine::testing::RailTestServer::start(server_fd.release());
    ClientConfig config;
    config.security = Security::kRdp;  // the same on both paths: the comparison is the transport
    config.width = 1024;
    config.height = 768;
    auto c = RdpClient::start(config, std::move(client_fd), sink, sink);
    if (!c) return "client: " + to_string(c.error());
    client = std::move(*c);
    if (auto up = client->wait_connected(20s); !up) return "connect: " + to_string(up.error());
    if (!server->wait_ready(20s)) return "the server did not see the RAIL handshake";
    connect_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    return {};
  }

  ~Session() {
    if (client) client->stop();
    server.reset();
    bus.reset();
  }
};

// The namespace is made once per program run (and removed at exit).
const std::expected<vitrine::bench::NetnsVeth, std::string>& netns() {
  static auto ns = vitrine::bench::NetnsVeth::create();
  return ns;
}

std::string open(Session& s, bool veth) {
  if (!veth) return s.open_bus();
  if (!netns()) return netns().error();
  return s.open_veth(*netns());
}

std::uint32_t next_stamp() {
  static std::uint32_t frame = 0;
  return (++frame * 2654435761u) & 0xFFFFFF;
}

bool paint_stamp(vitrine::testing::RailTestServer& server, std::uint32_t stamp) {
  return server.paint(0, 0, kSide, kSide, [&](std::int32_t x, std::int32_t y) {
    return (x == kSide - 1 && y == kSide - 1) ? (0xFF000000u | stamp) : vitrine::testing::test_pattern(x, y, stamp);
  });
}

void updates(benchmark::State& state, bool veth) {
  Session s;
  if (auto e = open(s, veth); !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  for (auto _ : state) {
    std::uint32_t stamp = 0;
    for (int i = 0; i < kBatch; ++i) {
      stamp = next_stamp();
      if (!paint_stamp(*s.server, stamp)) {
        state.SkipWithError("the server could not send an update");
        return;
      }
    }
    if (!s.sink.wait_stamp(stamp)) {
      state.SkipWithError("the last update did not arrive");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * kBatch * kSide * kSide * 4);
}

void input_to_paint(benchmark::State& state, bool veth) {
  Session s;
  if (auto e = open(s, veth); !e.empty()) {
    state.SkipWithError(e.c_str());
    return;
  }
  std::vector<double> us;
  std::int32_t n = 0;
  for (auto _ : state) {
    // A position not sent before, so the server's wait matches this move only.
    ++n;
    const DesktopPoint at{1 + n % 900, 1 + (n / 900) % 700};
    const auto start = Clock::now();
    s.client->mouse_move(at);
    const bool seen = s.server->wait_input(
        [&](const std::vector<vitrine::testing::ReceivedInput>& in) {
          return std::any_of(in.rbegin(), in.rend(), [&](const vitrine::testing::ReceivedInput& i) {
            return i.kind == vitrine::testing::ReceivedInput::Kind::kMouse && i.x == at.x && i.y == at.y;
          });
        },
        10s);
    const std::uint32_t stamp = next_stamp();
    if (!seen || !paint_stamp(*s.server, stamp) || !s.sink.wait_stamp(stamp)) {
      state.SkipWithError("the input or its paint did not arrive");
      return;
    }
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  vitrine::bench::set_latency_counters(state, std::move(us));
}

void connect(benchmark::State& state, bool veth) {
  for (auto _ : state) {
    Session s;
    if (auto e = open(s, veth); !e.empty()) {
      state.SkipWithError(e.c_str());
      return;
    }
    state.SetIterationTime(s.connect_us / 1e6);
  }
}

void BM_UpdatesBus(benchmark::State& state) { updates(state, false); }
void BM_UpdatesVeth(benchmark::State& state) { updates(state, true); }
void BM_InputToPaintBus(benchmark::State& state) { input_to_paint(state, false); }
void BM_InputToPaintVeth(benchmark::State& state) { input_to_paint(state, true); }
void BM_ConnectBus(benchmark::State& state) { connect(state, false); }
void BM_ConnectVeth(benchmark::State& state) { connect(state, true); }

// MinTime: the first iterations after connecting are slow (caches, first framebuffer); quick
// mode (--benchmark_min_time=0.05, CI) would measure only those.
BENCHMARK(BM_UpdatesBus)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_UpdatesVeth)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_InputToPaintBus)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_InputToPaintVeth)->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_ConnectBus)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(4);
BENCHMARK(BM_ConnectVeth)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(4);

using vitrine::bench::Metric;
VITRINE_BENCH_RATIO("RDP update throughput: bus vs guest network (veth)", "BM_UpdatesBus/min_time:0.500/real_time",
                    "BM_UpdatesVeth/min_time:0.500/real_time", Metric::kBytesPerSecond);
VITRINE_BENCH_RATIO("input-to-paint p50: veth / bus (x faster over the bus)", "BM_InputToPaintVeth/min_time:0.500/real_time",
                    "BM_InputToPaintBus/min_time:0.500/real_time", Metric::kCounter, "p50_us");
VITRINE_BENCH_RATIO("input-to-paint p99: veth / bus (x faster over the bus)", "BM_InputToPaintVeth/min_time:0.500/real_time",
                    "BM_InputToPaintBus/min_time:0.500/real_time", Metric::kCounter, "p99_us");
VITRINE_BENCH_RATIO("connect time: bus vs guest network (veth) (x faster)", "BM_ConnectBus/iterations:4/manual_time",
                    "BM_ConnectVeth/iterations:4/manual_time", Metric::kTimeInverse);

}  // namespace
