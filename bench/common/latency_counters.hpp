// The p50_us / p99_us counters every round-trip benchmark reports (bench/report.py reads them).
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace vitrine::bench {

// `us`: one sample per iteration, microseconds, in any order (sorted here).
inline void set_latency_counters(benchmark::State& state, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  const auto pct = [&](double p) { return us.empty() ? 0.0 : us[static_cast<std::size_t>(p * double(us.size() - 1))]; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
}

}  // namespace vitrine::bench
