// Cross-process throughput: a forked consumer reads (and sums) every payload byte that the
// benchmark process produces. The ring against memcpy (the limit: a hot copy that never
// leaves one core), pipe, Unix stream socket and TCP loopback, all in the same run.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "bench_main.hpp"
#include "peer.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace {

using namespace vitrine::ringbus;
using vitrine::bench::Peer;
using vitrine::bench::sum_words;

constexpr std::uint16_t kData = 1, kStop = 2;
constexpr std::uint64_t kByteMul = 0x0101010101010101ull;

// What the forked consumer did, in a shared anonymous mapping: read() calls that found records,
// read() calls that found none (each one a look at the tail the producer is writing), sleeps.
struct ConsumerStats {
  std::uint64_t batches, empty, sleeps;
};

std::uint32_t ring_log2_for(std::size_t size) { return size >= (256u << 10) ? 24 : 22; }

// notify_every: 1 = commit() (publishes the tail) and notify_consumer() after every record, the
// worst case. 16 = a producer that commits bursts: commit_unpublished() 16 records, then
// notify_consumer() publishes the tail once and checks whether the consumer sleeps (a seq_cst
// RMW plus a load). docs/ringbus.md explains the numbers of the two.
void ring_throughput(benchmark::State& state, std::uint32_t notify_every) {
  const auto size = static_cast<std::uint32_t>(state.range(0));
  auto bus = Bus::create(BusConfig::uniform(2, ring_log2_for(size), 12));
  auto data_bell = EventfdDoorbell::create();   // consumer sleeps here
  auto space_bell = EventfdDoorbell::create();  // producer sleeps here
  if (!bus || !data_bell || !space_bell) return state.SkipWithError("bus setup failed");
  void* shared = ::mmap(nullptr, sizeof(ConsumerStats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) return state.SkipWithError("mmap failed");
  const std::unique_ptr<ConsumerStats, void (*)(ConsumerStats*)> cstats(
      new (shared) ConsumerStats{}, [](ConsumerStats* p) { ::munmap(p, sizeof(ConsumerStats)); });
  Peer consumer([&]() -> std::uint64_t {
    auto guest = Bus::attach_fd(UniqueFd(::dup(bus->fd())), Side::kGuest);
    if (!guest) return 0;
    Ring& rx = guest->channel(1).rx();
    std::uint64_t sum = 0;
    bool stop = false;
    while (!stop) {
      auto n = rx.read([&](const RecordView& v) {
        if (v.type == kStop) stop = true;
        else sum += sum_words(v.payload.data(), v.payload.size());
      }, 64);
      if (!n) return 0;
      if (*n) {
        ++cstats->batches;
        rx.notify_producer(*space_bell);
      } else {
        ++cstats->empty;
        if (!rx.wait_readable(*data_bell, WaitPolicy::adaptive(), std::chrono::seconds(60)).value_or(false))
          return 0;
      }
    }
    cstats->sleeps = rx.counters().sleeps.get();
    return sum;
  });
  Ring& tx = bus->channel(1).tx();
  std::uint64_t expect = 0, seq = 0;
  for (auto _ : state) {
    Claim claim;
    for (;;) {
      auto r = tx.try_claim(size);
      if (!r) return state.SkipWithError("producer fault");
      if (*r) {
        claim = *r;
        break;
      }
      tx.notify_consumer(*data_bell);
      if (!tx.wait_writable(size, *space_bell, WaitPolicy::adaptive(), std::chrono::seconds(60)).value_or(false))
        return state.SkipWithError("producer stalled");
    }
    const auto byte = static_cast<std::uint8_t>(++seq);
    // The producer writes every byte, as write() into a socket would copy every byte.
    std::memset(claim.data, byte, size);
    if (notify_every == 1) {
      tx.commit(size, kData);
      tx.notify_consumer(*data_bell);
    } else {
      tx.commit_unpublished(size, kData);
      if (seq % notify_every == 0) tx.notify_consumer(*data_bell);  // publishes the burst
    }
    expect += (size / 8) * (byte * kByteMul);
  }
  while (!tx.try_claim(0).value_or(Claim{})) {
    tx.notify_consumer(*data_bell);
    if (!tx.wait_writable(0, *space_bell, WaitPolicy::adaptive(), std::chrono::seconds(60)).value_or(false))
      return state.SkipWithError("stop record failed");
  }
  tx.commit(0, kStop);
  tx.notify_consumer(*data_bell);
  if (consumer.join() != expect) state.SkipWithError("consumer checksum mismatch");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * size);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  // What a run cost in wake-ups, so that two runs (or two variants) can be told apart by what
  // happened and not only by their time: each consumer wake-up is an eventfd write here and a
  // sleep and wake-up over there; a full ring makes the producer wait.
  const auto per_record = [&](std::uint64_t n) {
    return static_cast<double>(n) / static_cast<double>(std::max<std::int64_t>(state.iterations(), 1));
  };
  state.counters["consumer_wakeups_per_record"] = per_record(tx.counters().doorbells_rung.get());
  state.counters["producer_sleeps_per_record"] = per_record(tx.counters().sleeps.get());
  state.counters["ring_full_per_record"] = per_record(tx.counters().times_full.get());
  state.counters["consumer_batches_per_record"] = per_record(cstats->batches);
  state.counters["consumer_empty_per_record"] = per_record(cstats->empty);
  state.counters["consumer_sleeps_per_record"] = per_record(cstats->sleeps);
}

void BM_RingThroughput(benchmark::State& state) { ring_throughput(state, 16); }
void BM_RingThroughputNotifyEach(benchmark::State& state) { ring_throughput(state, 1); }

void BM_MemcpyBandwidth(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint8_t> src(size, 1), dst(size);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), size);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(size));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Stream baselines: the parent writes `size`-byte messages, the child reads into a 1 MiB
// buffer and sums until EOF.
template <typename MakePair>
void stream_throughput(benchmark::State& state, MakePair make_pair) {
  const auto size = static_cast<std::size_t>(state.range(0));
  int fds[2];
  if (!make_pair(fds)) return state.SkipWithError("could not create the connection");
  Peer reader([&]() -> std::uint64_t {
    ::close(fds[1]);
    std::vector<std::uint8_t> buf(1 << 20);
    std::uint64_t sum = 0;
    std::size_t carry = 0;  // bytes of a partial 8-byte word kept at the buffer start
    for (;;) {
      const ssize_t n = ::read(fds[0], buf.data() + carry, buf.size() - carry);
      if (n <= 0) break;
      const std::size_t have = carry + static_cast<std::size_t>(n);
      const std::size_t whole = have & ~std::size_t{7};
      sum += sum_words(buf.data(), whole);
      carry = have - whole;
      std::memmove(buf.data(), buf.data() + whole, carry);
    }
    return sum;
  });
  ::close(fds[0]);
  std::vector<std::uint8_t> msg(size);
  std::uint64_t expect = 0, seq = 0;
  for (auto _ : state) {
    const auto byte = static_cast<std::uint8_t>(++seq);
    std::memset(msg.data(), byte, size);
    for (std::size_t off = 0; off < size;) {
      const ssize_t n = ::write(fds[1], msg.data() + off, size - off);
      if (n <= 0) return state.SkipWithError("write failed");
      off += static_cast<std::size_t>(n);
    }
    expect += (size / 8) * (byte * kByteMul);
  }
  ::close(fds[1]);
  if (reader.join() != expect) state.SkipWithError("reader checksum mismatch");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(size));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_PipeThroughput(benchmark::State& state) {
  stream_throughput(state, [](int fds[2]) {
    int p[2];
    if (::pipe(p) != 0) return false;
    ::fcntl(p[1], F_SETPIPE_SZ, 1 << 20);  // as deep as the ring's consumer batch allows
    fds[0] = p[0];
    fds[1] = p[1];
    return true;
  });
}

void BM_UnixStreamThroughput(benchmark::State& state) {
  stream_throughput(state, [](int fds[2]) {
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return false;
    const int buf = 4 << 20;
    ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    ::setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    return true;
  });
}

void BM_TcpLoopbackThroughput(benchmark::State& state) {
  stream_throughput(state, [](int fds[2]) {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return false;
    const int client = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
    const int server = ::accept(listener, nullptr, nullptr);
    ::close(listener);
    const int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fds[0] = server;
    fds[1] = client;
    return server >= 0;
  });
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int s : {64, 1024, 4096, 65536, 1 << 20}) b->Arg(s);
  b->UseRealTime();
}

BENCHMARK(BM_RingThroughput)->Apply(sizes);
BENCHMARK(BM_RingThroughputNotifyEach)->Apply(sizes);
BENCHMARK(BM_MemcpyBandwidth)->Apply(sizes);
BENCHMARK(BM_PipeThroughput)->Apply(sizes);
BENCHMARK(BM_UnixStreamThroughput)->Apply(sizes);
BENCHMARK(BM_TcpLoopbackThroughput)->Apply(sizes);

using vitrine::bench::Metric;
#define RING_RATIOS(SIZE, LABEL, T_MEMCPY, T_UNIX)                                                           \
  VITRINE_BENCH_RATIO("ring / memcpy, " LABEL, "BM_RingThroughput/" #SIZE "/real_time",                    \
                      "BM_MemcpyBandwidth/" #SIZE "/real_time", Metric::kBytesPerSecond, "", T_MEMCPY);    \
  VITRINE_BENCH_RATIO("ring / unix stream, " LABEL, "BM_RingThroughput/" #SIZE "/real_time",               \
                      "BM_UnixStreamThroughput/" #SIZE "/real_time", Metric::kBytesPerSecond, "", T_UNIX); \
  VITRINE_BENCH_RATIO("ring / pipe, " LABEL, "BM_RingThroughput/" #SIZE "/real_time",                      \
                      "BM_PipeThroughput/" #SIZE "/real_time", Metric::kBytesPerSecond);                   \
  VITRINE_BENCH_RATIO("ring / tcp loopback, " LABEL, "BM_RingThroughput/" #SIZE "/real_time",              \
                      "BM_TcpLoopbackThroughput/" #SIZE "/real_time", Metric::kBytesPerSecond)

RING_RATIOS(64, "64 B records", 0, 50);
RING_RATIOS(1024, "1 KiB records", 0, 0);
RING_RATIOS(4096, "4 KiB records", 0, 0);
RING_RATIOS(65536, "64 KiB records", 0.2, 3);
RING_RATIOS(1048576, "1 MiB records", 0, 0);

}  // namespace
