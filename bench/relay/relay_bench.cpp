// Relay throughput: bytes a loopback TCP sender pushes through a relay into a ring and that a
// host-side consumer takes, against same-run baselines:
//   BM_TcpReadFloor  a reader that only recv()s into a buffer and drops it: the kernel copy
//                    that no relay can avoid;
//   BM_NaiveRelay    recv() into a buffer, then memcpy into the ring (one user-space copy);
//   BM_UringRelay    vitrine's Relay: io_uring receives straight into claimed ring spans; with
//                    the third argument 1 the host asks for stage timestamps (kFeatureTimestamps:
//                    a 16-byte Stamp record after every data record, converted on the host), to
//                    show what the product's latency telemetry costs.
// copies_per_byte counts user-space payload copies per payload byte (counted by the relays:
// Relay::counters().bytes_copied + bytes_received_elsewhere; the naive relay counts its memcpy).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "bench_main.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/relay/relay.hpp"
#include "vitrine/relay/uring_engine.hpp"

namespace {

using namespace vitrine;
using namespace std::chrono_literals;

constexpr std::uint64_t kPerIteration = 16ull << 20;
constexpr std::uint32_t kRingLog2 = 21;  // 2 MiB rings

// A TCP server on 127.0.0.1 that sends one buffer over and over to whoever connects.
class Source {
 public:
  Source() : buf_(256 * 1024, std::byte{0x5a}) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_.get(), 4);
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      ringbus::UniqueFd s(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      while (!stop_.load(std::memory_order_relaxed)) {
        if (::send(s.get(), buf_.data(), buf_.size(), MSG_NOSIGNAL) <= 0) break;
      }
    });
  }
  ~Source() {
    stop_ = true;
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  std::vector<std::byte> buf_;
  ringbus::UniqueFd fd_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

ringbus::UniqueFd connect_to(std::uint16_t port) {
  ringbus::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  return fd;
}

void BM_TcpReadFloor(benchmark::State& state) {
  Source src;
  auto fd = connect_to(src.port());
  std::vector<std::byte> buf(128 * 1024);
  std::uint64_t total = 0;
  for (auto _ : state) {
    std::uint64_t got = 0;
    while (got < kPerIteration) {
      const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
      if (n <= 0) {
        state.SkipWithError("recv failed");
        return;
      }
      got += static_cast<std::uint64_t>(n);
    }
    total += got;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(total));
  state.counters["copies_per_byte"] = 0;
}
BENCHMARK(BM_TcpReadFloor)->UseRealTime()->Unit(benchmark::kMillisecond);

// The host side of every relay benchmark: consumes g2h records without touching the payload.
template <typename Peek, typename Consume, typename Wait>
bool consume_bytes(std::uint64_t want, Peek&& peek, Consume&& consume, Wait&& wait) {
  std::uint64_t got = 0;
  while (got < want) {
    auto span = peek();
    if (!span) return false;
    if (span->empty()) {
      if (!wait()) return false;
      continue;
    }
    got += span->size();
    consume(span->size());
  }
  return true;
}

void BM_NaiveRelay(benchmark::State& state) {
  auto host = ringbus::Bus::create(ringbus::BusConfig::uniform(2, kRingLog2, kRingLog2));
  auto guest = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(host->fd())), ringbus::Side::kGuest);
  auto bells = rdpmux::BusDoorbells::create_eventfds(2);
  (void)bells->apply(*host);
  (void)bells->apply(*guest);
  Source src;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> copied{0}, relayed{0};
  std::thread relay([&] {
    auto fd = connect_to(src.port());
    std::vector<std::byte> buf(128 * 1024);
    ringbus::Channel& ch = guest->channel(1);
    while (!stop.load(std::memory_order_relaxed)) {
      const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
      if (n <= 0) break;
      const auto len = static_cast<std::uint32_t>(n);
      for (;;) {
        auto claim = ch.tx().try_claim(len);
        if (!claim) return;
        if (*claim) {
          std::memcpy(claim->data, buf.data(), len);  // the copy this baseline is about
          copied.fetch_add(len, std::memory_order_relaxed);
          ch.tx().commit(len, rdpmux::kRecordData);
          ch.notify_sent();
          break;
        }
        if (stop.load(std::memory_order_relaxed)) return;
        (void)ch.wait_writable(len, ringbus::WaitPolicy::adaptive(), 50ms);
      }
      relayed.fetch_add(len, std::memory_order_relaxed);
    }
  });
  ringbus::Channel& hc = host->channel(1);
  ringbus::RecordView current{};
  std::uint64_t total = 0;
  for (auto _ : state) {
    const bool ok = consume_bytes(
        kPerIteration,
        [&]() -> ringbus::Result<std::span<const std::byte>> {
          auto v = hc.rx().peek();
          if (!v) return std::unexpected(v.error());
          if (!*v) hc.rx().release();  // a padding record peek() stepped over
          current = *v;
          return v->payload;
        },
        [&](std::size_t) {
          hc.rx().release_until(current.end_position);
          hc.notify_released();
        },
        [&] { return hc.wait_readable(ringbus::WaitPolicy::adaptive(), 5s).value_or(false); });
    if (!ok) {
      state.SkipWithError("consumer failed");
      break;
    }
    total += kPerIteration;
  }
  stop = true;
  // Drain so that a relay blocked on a full ring sees the stop flag.
  while (relay.joinable()) {
    (void)hc.rx().read([](const ringbus::RecordView&) {});
    hc.notify_released();
    if (relayed.load() >= copied.load()) {
      relay.join();
      break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(total));
  state.counters["copies_per_byte"] = static_cast<double>(copied.load()) / static_cast<double>(relayed.load());
}
BENCHMARK(BM_NaiveRelay)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_UringRelay(benchmark::State& state) {
  auto host = ringbus::Bus::create(ringbus::BusConfig::uniform(2, kRingLog2, kRingLog2));
  auto guest = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(host->fd())), ringbus::Side::kGuest);
  auto bells = rdpmux::BusDoorbells::create_eventfds(2);
  auto guest_bells = rdpmux::BusDoorbells::from_fds(*bells->dup_fds());
  auto engine = relay::UringEngine::create();
  if (!engine) {
    state.SkipWithError("io_uring unavailable");
    return;
  }
  relay::RelayOptions options;
  options.raw_claim = static_cast<std::uint32_t>(state.range(0));
  options.spin = std::chrono::microseconds(state.range(1));
  auto r = relay::Relay::create(*guest, *guest_bells, **engine, options);
  std::atomic<bool> stop{false};
  std::thread loop([&] { (void)(*r)->run(stop); });
  const bool stamped = state.range(2) != 0;
  std::atomic<std::uint64_t> stamps{0};
  rdpmux::HostMuxOptions mux_options;
  if (stamped) mux_options.on_stamp = [&stamps](const rdpmux::GuestStamp&) { stamps.fetch_add(1, std::memory_order_relaxed); };
  auto mux = rdpmux::HostMux::create(*host, std::move(*bells), std::move(mux_options));
  if (stamped && !(*mux)->sync_clock(5s)) {
    state.SkipWithError("sync_clock failed");
    stop = true;
    if (auto* bell = guest_bells->guest()) bell->ring();
    loop.join();
    return;
  }
  Source src;
  auto conn = (*mux)->open(rdpmux::Target::tcp(src.port()));
  if (!conn) {
    state.SkipWithError(rdpmux::to_string(conn.error()).c_str());
    stop = true;
    loop.join();
    return;
  }
  rdpmux::Connection& c = **conn;
  std::uint64_t total = 0;
  for (auto _ : state) {
    const bool ok = consume_bytes(
        kPerIteration, [&] { return c.peek_read(); }, [&](std::size_t n) { c.consume(n); },
        [&] { return c.channel().wait_readable(ringbus::WaitPolicy::adaptive(), 5s).value_or(false); });
    if (!ok) {
      state.SkipWithError("consumer failed");
      break;
    }
    total += kPerIteration;
  }
  const auto& k = (*r)->counters();
  const double relayed = static_cast<double>(k.bytes_to_host.get());
  state.SetBytesProcessed(static_cast<std::int64_t>(total));
  state.counters["copies_per_byte"] =
      static_cast<double>(k.bytes_copied.get() + k.bytes_received_elsewhere.get()) / relayed;
  state.counters["bytes_per_recv"] = relayed / static_cast<double>(k.recvs.get());
  state.counters["fixed_buffers"] = (*r)->fixed_buffers() ? 1 : 0;
  state.counters["stamps_per_record"] =
      static_cast<double>(stamps.load()) / static_cast<double>(std::max<std::uint64_t>(k.records_to_host.get(), 1));
  conn->reset();
  stop = true;
  if (auto* bell = guest_bells->guest()) bell->ring();
  loop.join();
}
// Args: bytes claimed per receive, microseconds the loop spins before sleeping, timestamps.
BENCHMARK(BM_UringRelay)
    ->Args({64 * 1024, 20, 0})
    ->Args({64 * 1024, 20, 1})
    ->Args({128 * 1024, 20, 0})
    ->Args({128 * 1024, 20, 1})
    ->Args({128 * 1024, 0, 0})
    ->Args({512 * 1024, 20, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

VITRINE_BENCH_RATIO("uring relay vs TCP read floor", "BM_UringRelay/131072/20/0/real_time", "BM_TcpReadFloor/real_time",
                    vitrine::bench::Metric::kBytesPerSecond, "", 0.8);
VITRINE_BENCH_RATIO("uring relay vs naive relay", "BM_UringRelay/131072/20/0/real_time", "BM_NaiveRelay/real_time",
                    vitrine::bench::Metric::kBytesPerSecond);
VITRINE_BENCH_RATIO("uring relay, no spin, vs TCP read floor", "BM_UringRelay/131072/0/0/real_time",
                    "BM_TcpReadFloor/real_time", vitrine::bench::Metric::kBytesPerSecond, "", 0.8);
VITRINE_BENCH_RATIO("uring relay, 512 KiB claims, vs TCP read floor", "BM_UringRelay/524288/20/0/real_time",
                    "BM_TcpReadFloor/real_time", vitrine::bench::Metric::kBytesPerSecond, "", 0.8);
VITRINE_BENCH_RATIO("uring relay with stage timestamps vs without", "BM_UringRelay/131072/20/1/real_time",
                    "BM_UringRelay/131072/20/0/real_time", vitrine::bench::Metric::kBytesPerSecond);
VITRINE_BENCH_RATIO("uring relay 64 KiB claims with stage timestamps vs without", "BM_UringRelay/65536/20/1/real_time",
                    "BM_UringRelay/65536/20/0/real_time", vitrine::bench::Metric::kBytesPerSecond);
VITRINE_BENCH_RATIO("naive relay vs TCP read floor", "BM_NaiveRelay/real_time", "BM_TcpReadFloor/real_time",
                    vitrine::bench::Metric::kBytesPerSecond);

}  // namespace
