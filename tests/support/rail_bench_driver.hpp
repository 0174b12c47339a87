// RailBenchDriver: serves one RDP connection with a RailTestServer and answers the benchmark
// protocol (rail_bench_protocol.hpp) on its own thread: the ready paint after the client's RAIL
// handshake, one stamped paint per probe move, kBatch stamped paints per trigger move. Used by
// rail_bench_server (the guest-side program of bench_e2e's QEMU cases).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "rail_test_server.hpp"

namespace vitrine::testing {

class RailBenchDriver {
 public:
  // Takes ownership of the connected socket `fd`. `ready_timeout`: how long the client may take
  // to finish its RAIL handshake before the connection is dropped.
  static std::unique_ptr<RailBenchDriver> start(int fd, std::chrono::milliseconds ready_timeout);
  ~RailBenchDriver();
  RailBenchDriver(const RailBenchDriver&) = delete;
  RailBenchDriver& operator=(const RailBenchDriver&) = delete;

  // The connection ended (client gone, handshake timeout, or a paint failed).
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // Paints sent so far (ready, probes and batch members).
  std::uint64_t paints() const { return paints_.load(std::memory_order_relaxed); }

 private:
  RailBenchDriver() = default;
  void run(std::chrono::milliseconds ready_timeout);
  bool paint(std::uint32_t stamp);

  std::unique_ptr<RailTestServer> server_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<std::uint64_t> paints_{0};
  std::thread thread_;
};

}  // namespace vitrine::testing
