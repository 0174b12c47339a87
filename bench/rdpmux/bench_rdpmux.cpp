// bench_rdpmux: the same RAIL test server reached three ways, in one binary:
//   BM_RdpOverTcp    FreeRDP client on a TCP loopback socket straight to the server (baseline)
//   BM_RdpOverBus    client -> socketpair -> ConnectionBridge -> HostMux/bus -> vitrine-guest's
//                    Relay (io_uring, framed) -> TCP loopback -> server: the product's path
//   BM_RdpOverBridgePair  client -> socketpair -> BusSocketBridge -> bus -> BusSocketBridge ->
//                    socketpair -> server: the bus without the relay's TCP hop
// Per transport: connect time (connect .. RAIL exec seen), and paint round trips of a
// 256x256 surface update (server encodes raw SurfaceBits, client decodes into the framebuffer,
// the paint's damage is seen). A frame counter is stamped into the pixels; the benchmark waits
// for the pixel carrying the current counter, so latency is send -> client paint. Counters:
// MB/s of pixels, p50/p99 update latency in microseconds.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "null_sink.hpp"
#include "bus_pair.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host_mux.hpp"
#include "relay_loop.hpp"
#include "rail_test_server.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace {

using namespace vitrine::rdpmux::host;
using Clock = std::chrono::steady_clock;
constexpr std::uint32_t kSide = 256;

class Sink final : public vitrine::testing::NullSink {
 public:
  void framebuffer_changed(const FramebufferView& fb) override { fb_ = fb; }
  // The stamp sits in the last pixel of the update (the last band painted).
  void damaged(const FramebufferView& fb, std::span<const DesktopRect>) override {
    std::uint32_t v;
    std::memcpy(&v, fb.pixels + std::size_t(kSide - 1) * fb.stride + std::size_t(kSide - 1) * 4, 4);
    {
      std::lock_guard lock(mutex_);
      stamp_ = v & 0xFFFFFF;
    }
    cv_.notify_all();
  }
  bool wait_stamp(std::uint32_t want) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return stamp_ == want; });
  }

 private:
  FramebufferView fb_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint32_t stamp_ = 0;
};

// The guest side for BM_RdpOverBus: the in-process bus path (tests/support RelayLoop) and one
// bridge (declared after the loop: destroyed before it).
struct RelayPath {
  std::unique_ptr<vitrine::testing::RelayLoop> loop;
  std::unique_ptr<ConnectionBridge> bridge;
};

struct Transport {
  std::unique_ptr<vitrine::rdpmux::host::testing::BridgedLink> link;  // bridge pair only
  std::unique_ptr<RelayPath> relay;                                    // relay path only
  vitrine::ringbus::UniqueFd client, server;
};

Transport make_tcp() {
  Transport t;
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listener);
    return t;
  }
  const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    t.client.reset(c);
    t.server.reset(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    const int one = 1;
    ::setsockopt(t.client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(t.server.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  } else {
    ::close(c);
  }
  ::close(listener);
  return t;
}

// The product path: HostMux + ConnectionBridge on the host, the io_uring Relay on the guest side.
Transport make_relay() {
  using namespace std::chrono_literals;
  Transport t;
  auto path = std::make_unique<RelayPath>();
  auto loop = vitrine::testing::RelayLoop::start(2, 21);
  if (!loop) return t;
  path->loop = std::move(*loop);
  // The server listens on TCP loopback, as a guest RDP server would.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listener);
    return t;
  }
  auto conn = path->loop->mux().open(vitrine::rdpmux::Target::tcp(ntohs(addr.sin_port)), {.framed = true, .timeout = 5000ms});
  if (!conn) {
    ::close(listener);
    return t;
  }
  t.server.reset(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  ::close(listener);
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return t;
  auto bridge = ConnectionBridge::start(std::move(*conn), vitrine::ringbus::UniqueFd(fds[1]));
  if (!bridge) return t;
  path->bridge = std::move(*bridge);
  t.client.reset(fds[0]);
  t.relay = std::move(path);
  return t;
}

Transport make_bus() {
  Transport t;
  t.link = vitrine::rdpmux::host::testing::BridgedLink::make();
  if (t.link) {
    t.client = std::move(t.link->client_end);
    t.server = std::move(t.link->server_end);
  }
  return t;
}

struct Session {
  Transport transport;
  std::unique_ptr<vitrine::testing::RailTestServer> server;
  Sink sink;
  std::unique_ptr<RdpClient> client;
  double connect_us = 0;

  bool open(int kind) {
    transport = kind == 0 ? make_tcp() : kind == 1 ? make_relay() : make_bus();
    if (!transport.client || !transport.server) return false;
    const auto start = Clock::now();
    server = vitrine::testing::RailTestServer::start(transport.server.release());
    ClientConfig config;
    config.security = Security::kRdp;
    config.width = 1024;
    config.height = 768;
    auto c = RdpClient::start(config, std::move(transport.client), sink, sink);
    if (!c) return false;
    client = std::move(*c);
    if (!client->wait_connected(std::chrono::seconds(20)) || !server->wait_ready(std::chrono::seconds(20)))
      return false;
    connect_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    return true;
  }
  ~Session() {
    if (client) client->stop();
    server.reset();
  }
};

void run_paints(benchmark::State& state, int kind) {
  Session s;
  if (!s.open(kind)) {
    state.SkipWithError("cannot open the RDP session");
    return;
  }
  std::vector<double> latencies;
  std::uint32_t frame = 0;
  for (auto _ : state) {
    const std::uint32_t stamp = (++frame * 2654435761u) & 0xFFFFFF;
    const auto start = Clock::now();
    const bool sent = s.server->paint(0, 0, kSide, kSide, [&](std::int32_t x, std::int32_t y) {
      return (x == kSide - 1 && y == kSide - 1) ? (0xFF000000u | stamp) : vitrine::testing::test_pattern(x, y, frame);
    });
    if (!sent || !s.sink.wait_stamp(stamp)) {
      state.SkipWithError("paint did not arrive");
      return;
    }
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(latencies.begin(), latencies.end());
  const auto pct = [&](double p) { return latencies.empty() ? 0.0 : latencies[std::size_t(p * (latencies.size() - 1))]; };
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * kSide * kSide * 4);
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["connect_us"] = s.connect_us;
}

void BM_RdpOverTcp(benchmark::State& state) { run_paints(state, 0); }
void BM_RdpOverBus(benchmark::State& state) { run_paints(state, 1); }
void BM_RdpOverBridgePair(benchmark::State& state) { run_paints(state, 2); }

BENCHMARK(BM_RdpOverTcp)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_RdpOverBus)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_RdpOverBridgePair)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
