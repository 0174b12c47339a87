// Round trips: a 64-byte message to a forked echo process and back. The ring with three wait
// policies (spin: never sleeps; doorbell: always sleeps on the eventfd; adaptive: spins 20 us
// then sleeps) against a Unix stream socket and a pair of pipes. Reports time per round trip
// and p50/p99 counters (nanoseconds).
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "bench_main.hpp"
#include "peer.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace {

using namespace vitrine::ringbus;
using vitrine::bench::Peer;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMessage = 64;
constexpr std::uint16_t kPing = 1, kStop = 2;

void report_percentiles(benchmark::State& state, std::vector<std::int64_t>& samples) {
  if (samples.empty()) return;
  std::sort(samples.begin(), samples.end());
  state.counters["p50_ns"] = static_cast<double>(samples[samples.size() / 2]);
  state.counters["p99_ns"] = static_cast<double>(samples[samples.size() * 99 / 100]);
}

// Sends one record; waits for space per `policy` if needed.
bool send(Ring& tx, Doorbell& mine, Doorbell& peer, std::uint16_t type, WaitPolicy policy) {
  for (;;) {
    auto c = tx.try_claim(kMessage);
    if (!c) return false;
    if (*c) {
      std::memset(c->data, 0x5a, kMessage);
      tx.commit(kMessage, type);
      tx.notify_consumer(peer);
      return true;
    }
    if (!tx.wait_writable(kMessage, mine, policy, std::chrono::seconds(30)).value_or(false)) return false;
  }
}

// Receives one record and returns its type (0 on failure).
std::uint16_t receive(Ring& rx, Doorbell& mine, Doorbell& peer, WaitPolicy policy) {
  for (;;) {
    std::uint16_t type = 0;
    auto n = rx.read([&](const RecordView& v) { type = v.type; }, 1);
    if (!n) return 0;
    if (*n) {
      rx.notify_producer(peer);
      return type;
    }
    if (!rx.wait_readable(mine, policy, std::chrono::seconds(30)).value_or(false)) return 0;
  }
}

void BM_RingPingPong(benchmark::State& state, WaitPolicy policy) {
  auto bus = Bus::create(BusConfig::uniform(2, 16, 16));
  auto guest_bell = EventfdDoorbell::create();  // the echo process sleeps here
  auto host_bell = EventfdDoorbell::create();   // the benchmark process sleeps here
  if (!bus || !guest_bell || !host_bell) return state.SkipWithError("bus setup failed");
  Peer echo([&]() -> std::uint64_t {
    auto guest = Bus::attach_fd(UniqueFd(::dup(bus->fd())), Side::kGuest);
    if (!guest) return 0;
    Channel& ch = guest->channel(1);
    std::uint64_t echoed = 0;
    for (;;) {
      const std::uint16_t type = receive(ch.rx(), *guest_bell, *host_bell, policy);
      if (type != kPing) return echoed;
      if (!send(ch.tx(), *guest_bell, *host_bell, kPing, policy)) return 0;
      ++echoed;
    }
  });
  Channel& ch = bus->channel(1);
  std::vector<std::int64_t> samples;
  samples.reserve(1 << 20);
  for (auto _ : state) {
    const auto t0 = Clock::now();
    if (!send(ch.tx(), *host_bell, *guest_bell, kPing, policy) ||
        receive(ch.rx(), *host_bell, *guest_bell, policy) != kPing)
      return state.SkipWithError("round trip failed");
    if (samples.size() < samples.capacity())
      samples.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  }
  send(ch.tx(), *host_bell, *guest_bell, kStop, policy);
  if (echo.join() != static_cast<std::uint64_t>(state.iterations())) state.SkipWithError("echo count mismatch");
  report_percentiles(state, samples);
  // How many round trips really slept: a policy is a limit, not what happened. The echo side
  // slept once for each doorbell we rang it; our own sleeps are counted by our rings.
  const double n = static_cast<double>(std::max<std::int64_t>(state.iterations(), 1));
  state.counters["echo_sleeps_per_rt"] = static_cast<double>(ch.tx().counters().doorbells_rung.get()) / n;
  state.counters["own_sleeps_per_rt"] =
      static_cast<double>(ch.rx().counters().sleeps.get() + ch.tx().counters().sleeps.get()) / n;
}

// Echo over a stream pair (socketpair or two pipes): fds {parent read, parent write, child
// read, child write}.
void stream_pingpong(benchmark::State& state, int fds[4]) {
  Peer echo([&]() -> std::uint64_t {
    ::close(fds[0]);
    ::close(fds[1]);
    char buf[kMessage];
    std::uint64_t echoed = 0;
    for (;;) {
      std::size_t got = 0;
      while (got < kMessage) {
        const ssize_t n = ::read(fds[2], buf + got, kMessage - got);
        if (n <= 0) return echoed;
        got += static_cast<std::size_t>(n);
      }
      if (::write(fds[3], buf, kMessage) != static_cast<ssize_t>(kMessage)) return 0;
      ++echoed;
    }
  });
  if (fds[2] != fds[0]) ::close(fds[2]);
  if (fds[3] != fds[1] && fds[3] != fds[2]) ::close(fds[3]);
  char buf[kMessage];
  std::memset(buf, 0x5a, sizeof buf);
  std::vector<std::int64_t> samples;
  samples.reserve(1 << 20);
  for (auto _ : state) {
    const auto t0 = Clock::now();
    if (::write(fds[1], buf, kMessage) != static_cast<ssize_t>(kMessage)) return state.SkipWithError("write");
    std::size_t got = 0;
    while (got < kMessage) {
      const ssize_t n = ::read(fds[0], buf + got, kMessage - got);
      if (n <= 0) return state.SkipWithError("read");
      got += static_cast<std::size_t>(n);
    }
    if (samples.size() < samples.capacity())
      samples.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  }
  ::close(fds[1]);
  if (fds[0] != fds[1]) ::close(fds[0]);
  echo.join();
  report_percentiles(state, samples);
}

void BM_UnixStreamPingPong(benchmark::State& state) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return state.SkipWithError("socketpair");
  int fds[4] = {sv[0], sv[0], sv[1], sv[1]};
  stream_pingpong(state, fds);
}

void BM_PipePingPong(benchmark::State& state) {
  int to_child[2], to_parent[2];
  if (::pipe(to_child) != 0 || ::pipe(to_parent) != 0) return state.SkipWithError("pipe");
  int fds[4] = {to_parent[0], to_child[1], to_child[0], to_parent[1]};
  stream_pingpong(state, fds);
}

BENCHMARK_CAPTURE(BM_RingPingPong, spin, WaitPolicy::spin_only())->UseRealTime();
BENCHMARK_CAPTURE(BM_RingPingPong, doorbell, WaitPolicy::sleep_only())->UseRealTime();
BENCHMARK_CAPTURE(BM_RingPingPong, adaptive, WaitPolicy::adaptive())->UseRealTime();
BENCHMARK(BM_UnixStreamPingPong)->UseRealTime();
BENCHMARK(BM_PipePingPong)->UseRealTime();

using vitrine::bench::Metric;
VITRINE_BENCH_RATIO("round trip: ring spin vs unix stream (x faster)", "BM_RingPingPong/spin/real_time",
                    "BM_UnixStreamPingPong/real_time", Metric::kTimeInverse, "", 20);
VITRINE_BENCH_RATIO("round trip: ring doorbell vs unix stream (x faster)", "BM_RingPingPong/doorbell/real_time",
                    "BM_UnixStreamPingPong/real_time", Metric::kTimeInverse, "", 1);
VITRINE_BENCH_RATIO("round trip: ring adaptive vs unix stream (x faster)", "BM_RingPingPong/adaptive/real_time",
                    "BM_UnixStreamPingPong/real_time", Metric::kTimeInverse);
VITRINE_BENCH_RATIO("round trip: ring doorbell vs pipe (x faster)", "BM_RingPingPong/doorbell/real_time",
                    "BM_PipePingPong/real_time", Metric::kTimeInverse);

}  // namespace
