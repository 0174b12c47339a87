// A forked peer process for cross-process benchmarks: the child runs a function and sends an
// 8-byte result back through a pipe; the parent collects it after its timed loop.
#pragma once

#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <functional>

namespace vitrine::bench {

class Peer {
 public:
  explicit Peer(const std::function<std::uint64_t()>& body) {
    int p[2];
    if (::pipe(p) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(p[0]);
      const std::uint64_t result = body();
      [[maybe_unused]] auto n = ::write(p[1], &result, sizeof result);
      ::_exit(0);
    }
    ::close(p[1]);
    result_fd_ = p[0];
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  ~Peer() { join(); }

  bool ok() const { return pid_ > 0; }
  // Waits for the child; value: what its body returned (0 if it died).
  std::uint64_t join() {
    std::uint64_t result = 0;
    if (result_fd_ >= 0) {
      if (::read(result_fd_, &result, sizeof result) != sizeof result) result = 0;
      ::close(result_fd_);
      result_fd_ = -1;
    }
    if (pid_ > 0) {
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    return result;
  }

 private:
  pid_t pid_ = -1;
  int result_fd_ = -1;
};

// Reads every byte of `data` (as 64-bit words; sizes are multiples of 8 in these benchmarks):
// the consumer of every throughput benchmark must touch the payload, or it measures nothing.
inline std::uint64_t sum_words(const void* data, std::size_t size) {
  const auto* w = static_cast<const std::uint64_t*>(data);
  std::uint64_t a = 0, b = 0, c = 0, d = 0;
  std::size_t i = 0, n = size / 8;
  for (; i + 4 <= n; i += 4) a += w[i], b += w[i + 1], c += w[i + 2], d += w[i + 3];
  for (; i < n; ++i) a += w[i];
  return a + b + c + d;
}

}  // namespace vitrine::bench
