// The p50_us / p99_us counters every round-trip benchmark reports (bench/report.py reads them).
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <vector>

namespace vitrine::bench {

// `us`: one sample per iteration, microseconds, in any order (sorted here).
inline void set_latency_counters(benchmark::State& state, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  const auto pct = [&](double p) { return us.empty() ? 0.0 : us[static_cast<std::size_t>(p * double(us.size() - 1))]; };
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
}

// `count` untimed runs of `step` (the first frames after connecting are slow). False, with the
// benchmark skipped and `what` as the reason, when one fails.
inline bool warm_up(benchmark::State& state, int count, const std::function<bool()>& step, const char* what) {
  for (int i = 0; i < count; ++i) {
    if (!step()) {
      state.SkipWithError(what);
      return false;
    }
  }
  return true;
}

// One `step` per iteration. False, with the benchmark skipped and `what` as the reason, when
// one fails.
inline bool run_steps(benchmark::State& state, const std::function<bool()>& step, const char* what) {
  for (auto _ : state) {
    if (!step()) {
      state.SkipWithError(what);
      return false;
    }
  }
  return true;
}

// One `round_trip` per iteration (microseconds; < 0: it failed, and the benchmark is skipped
// with `what`), then the p50_us / p99_us counters. False when skipped.
inline bool time_round_trips(benchmark::State& state, const std::function<double()>& round_trip, const char* what) {
  std::vector<double> us;
  for (auto _ : state) {
    const double t = round_trip();
    if (t < 0) {
      state.SkipWithError(what);
      return false;
    }
    us.push_back(t);
  }
  set_latency_counters(state, std::move(us));
  return true;
}

}  // namespace vitrine::bench
