// nested-guest --bench: what bench_vm's nested run measures inside the inner guest (see
// nested_protocol.hpp): the cost of a BAR0 Doorbell write (KVM ioeventfd: the exit ends in
// the host kernel) against a BAR0 register write that exits to the VMM's user space, and the
// ping/pong round trip through the bus with the doorbell (host sleeps on its eventfd) against
// the host polling. Clock: CLOCK_MONOTONIC of the inner guest (kvm-clock).
#include "nested_guest_bench.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <span>

#include "nested_protocol.hpp"

namespace vitrine::hv::kvm::nested {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint32_t kExitIterations = 2000;
constexpr std::uint32_t kRoundTrips = 300;

std::uint64_t ns_since(Clock::time_point t0) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

// One ping, then spin until its pong; false after 2 s without it.
bool round_trip(ringbus::Channel& ch, volatile std::uint32_t* bar0, std::uint32_t seq, std::uint32_t mode) {
  const std::uint32_t ping[2] = {seq, mode};
  for (;;) {
    auto sent = ch.try_send(kPing, std::as_bytes(std::span(ping)));
    if (!sent) return false;
    if (*sent) break;
  }
  if (mode == kModeDoorbell) bar0[3] = 0;  // Doorbell: peer 0 (the host), vector 0
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  bool got = false;
  while (!got && Clock::now() < deadline) {
    auto n = ch.rx().read([&](const ringbus::RecordView& r) {
      std::uint32_t s = 0;
      if (r.type == kPong && r.payload.size() == 4) {
        std::memcpy(&s, r.payload.data(), 4);
        got = got || s == seq;
      }
    });
    if (!n) return false;
    if (!got) __builtin_ia32_pause();
  }
  return got;
}

}  // namespace

int run_guest_bench(ringbus::Channel& ch, const std::string& device) {
  BenchResult res{};
  res.iv_position = -1;
  const int fd = ::open((device + "/resource0").c_str(), O_RDWR | O_SYNC | O_CLOEXEC);
  void* regs = fd < 0 ? MAP_FAILED : ::mmap(nullptr, 256, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (regs == MAP_FAILED) {
    std::printf("nested-guest: bench: no BAR0 (%s): no doorbell numbers\n", std::strerror(errno));
  } else {
    auto* bar0 = static_cast<volatile std::uint32_t*>(regs);
    res.iv_position = static_cast<std::int32_t>(bar0[2]);
  }
  if (res.iv_position >= 0) {
    auto* bar0 = static_cast<volatile std::uint32_t*>(regs);
    res.iterations = kExitIterations;
    auto t0 = Clock::now();
    for (std::uint32_t i = 0; i < kExitIterations; ++i) bar0[3] = 0;
    res.doorbell_write_ns = ns_since(t0) / kExitIterations;
    t0 = Clock::now();
    for (std::uint32_t i = 0; i < kExitIterations; ++i) bar0[0] = 0;  // IntrMask
    res.user_mmio_write_ns = ns_since(t0) / kExitIterations;
    std::uint32_t seq = 1;
    for (std::uint32_t mode : {kModeDoorbell, kModePoll}) {
      t0 = Clock::now();
      for (std::uint32_t i = 0; i < kRoundTrips; ++i) {
        if (!round_trip(ch, bar0, seq++, mode)) {
          std::printf("nested-guest: bench: FAIL no pong for ping %u (mode %u)\n", seq - 1, mode);
          return 1;
        }
      }
      (mode == kModeDoorbell ? res.rtt_doorbell_ns : res.rtt_poll_ns) = ns_since(t0) / kRoundTrips;
    }
  }
  auto sent = ch.try_send(kResult, std::as_bytes(std::span(&res, 1)));
  if (!sent || !*sent) {
    std::puts("nested-guest: bench: FAIL send result");
    return 1;
  }
  std::printf("nested-guest: bench: doorbell write %llu ns, user-space MMIO write %llu ns, round trip %llu ns "
              "(doorbell) / %llu ns (poll)\n",
              static_cast<unsigned long long>(res.doorbell_write_ns),
              static_cast<unsigned long long>(res.user_mmio_write_ns),
              static_cast<unsigned long long>(res.rtt_doorbell_ns), static_cast<unsigned long long>(res.rtt_poll_ns));
  return 0;
}

}  // namespace vitrine::hv::kvm::nested
