// bench_rdpmux: the same RAIL test server reached four ways, in one binary:
//   BM_RdpOverTcp    FreeRDP client on a TCP loopback socket straight to the server (baseline:
//                    the network path)
//   BM_RdpOverBus    client -> socketpair -> ConnectionBridge -> HostMux/bus -> vitrine-guest's
//                    Relay (io_uring, framed) -> TCP loopback -> server: the product's path
//   BM_RdpOverBusUnix  the same, but the server listens on a Unix socket and the relay targets
//                    it (rdp_target = "unix:PATH", as the demo's appserver --unix): no guest TCP
//   BM_RdpOverBridgePair  client -> socketpair -> BusSocketBridge -> bus -> BusSocketBridge ->
//                    socketpair -> server: the bus without the relay's TCP hop
// The argument compress:0/1 is ClientConfig::bulk_compression off/on: the server (FreeRDP's,
// like the appserver) compresses its fast-path output (RDP 6.1, MPPC + xcrush) exactly when the
// client asks. The product asks on TCP and not on the bus (BulkCompression::kAuto); both are
// measured on both paths, and the ratios below compare them within one run.
// Per transport: connect time (connect .. RAIL exec seen), and paint round trips of a
// 256x256 surface update (server encodes raw SurfaceBits, client decodes into the framebuffer,
// the paint's damage is seen). A frame counter is stamped into the pixels; the benchmark waits
// for the pixel carrying the current counter, so latency is send -> client paint. Counters:
// MB/s of pixels, p50/p99 update latency in microseconds, and (relay paths) wire_kib: the
// server's bytes per paint as they crossed the bus, compression's saving.
//
// Same-run ratios: run with --benchmark_out=F.json --benchmark_out_format=json and divide the
// real_time of two entries (this program has its own main: it does not link bench_main).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "null_sink.hpp"
#include "bus_pair.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
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
  std::unique_ptr<RelayPath> relay;                                    // relay paths only
  vitrine::ringbus::UniqueFd client, server;
};

enum class Path { kTcp, kRelayTcp, kRelayUnix, kBridgePair };

// The guest RDP server's listening socket for the relay paths: TCP loopback (the relay's target
// is tcp:PORT) or a Unix socket in a private folder (unix:PATH, removed again on destruction).
struct GuestListener {
  vitrine::ringbus::UniqueFd fd;
  vitrine::rdpmux::Target target = vitrine::rdpmux::Target::tcp(0);
  std::filesystem::path dir;
  ~GuestListener() {
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  bool listen(bool unix_socket) {
    if (!unix_socket) {
      fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 1) != 0 ||
          ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return false;
      target = vitrine::rdpmux::Target::tcp(ntohs(addr.sin_port));
      return true;
    }
    char tmpl[] = "/tmp/bench-rdpmux-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return false;
    dir = tmpl;
    const std::string path = (dir / "rdp.sock").string();
    fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 1) != 0)
      return false;
    target = vitrine::rdpmux::Target::unix_socket(path);
    return true;
  }
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

// The product path: HostMux + ConnectionBridge on the host, the io_uring Relay on the guest side;
// the server listens on TCP loopback or on a Unix socket, as a guest RDP server would.
Transport make_relay(bool unix_socket) {
  using namespace std::chrono_literals;
  Transport t;
  auto path = std::make_unique<RelayPath>();
  auto loop = vitrine::testing::RelayLoop::start(2, 21);
  if (!loop) return t;
  path->loop = std::move(*loop);
  GuestListener listener;
  if (!listener.listen(unix_socket)) return t;
  auto conn = path->loop->mux().open(listener.target, {.framed = true, .timeout = 5000ms});
  if (!conn) return t;
  t.server.reset(::accept4(listener.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
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

  bool open(Path path, bool compress) {
    transport = path == Path::kTcp        ? make_tcp()
                : path == Path::kRelayTcp ? make_relay(false)
                : path == Path::kRelayUnix ? make_relay(true)
                                           : make_bus();
    if (!transport.client || !transport.server) return false;
    const auto start = Clock::now();
    server = vitrine::testing::RailTestServer::start(transport.server.release());
    ClientConfig config;
    config.security = Security::kRdp;
    config.bulk_compression = compress ? BulkCompression::kOn : BulkCompression::kOff;
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

// state.range(0): bulk compression off (0) or on (1).
void run_paints(benchmark::State& state, Path path) {
  Session s;
  if (!s.open(path, state.range(0) != 0)) {
    state.SkipWithError("cannot open the RDP session");
    return;
  }
  const auto wire_bytes = [&]() -> std::uint64_t {
    return s.transport.relay ? s.transport.relay->bridge->bytes_to_socket() : 0;
  };
  const std::uint64_t wire_start = wire_bytes();
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
  if (s.transport.relay && state.iterations() > 0)
    state.counters["wire_kib"] = static_cast<double>(wire_bytes() - wire_start) / 1024.0 /
                                 static_cast<double>(state.iterations());
}

void BM_RdpOverTcp(benchmark::State& state) { run_paints(state, Path::kTcp); }
void BM_RdpOverBus(benchmark::State& state) { run_paints(state, Path::kRelayTcp); }
void BM_RdpOverBusUnix(benchmark::State& state) { run_paints(state, Path::kRelayUnix); }
void BM_RdpOverBridgePair(benchmark::State& state) { run_paints(state, Path::kBridgePair); }

// Compression both ways on the network baseline and the product path; the Unix-socket guest hop
// and the bridge pair with the product's bus setting (off) only.
BENCHMARK(BM_RdpOverTcp)->ArgName("compress")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_RdpOverBus)->ArgName("compress")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_RdpOverBusUnix)->ArgName("compress")->Arg(0)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_RdpOverBridgePair)->ArgName("compress")->Arg(0)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
