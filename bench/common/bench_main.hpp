// Same-run ratios for Google Benchmark programs. Absolute numbers on a 2-core shared machine
// drift from run to run; a ratio of two benchmarks measured in the same process, minutes
// apart at most, is what the project reports.
//
// A program registers its ratios, then links vitrine::bench_main (which provides main()):
//
//   VITRINE_BENCH_RATIO("ring vs unix socket, 64 KiB", "BM_RingThroughput/65536",
//                       "BM_UnixStreamThroughput/65536", vitrine::bench::Metric::kBytesPerSecond);
//
// After the run, main() prints a table of every ratio whose two benchmarks ran, and writes it
// as JSON next to --benchmark_out (FILE.ratios.json) when that flag is given.
#pragma once

#include <string>
#include <vector>

namespace vitrine::bench {

enum class Metric {
  kBytesPerSecond,   // numerator / denominator: higher is better for the numerator
  kItemsPerSecond,
  kTimeInverse,      // denominator time / numerator time: how many times faster the numerator is
  kCounter,          // a user counter named in `counter`, numerator / denominator
};

struct Ratio {
  std::string label;
  std::string numerator;    // benchmark run name, e.g. "BM_RingThroughput/65536"
  std::string denominator;
  Metric metric;
  std::string counter;      // for kCounter
  double target = 0;        // shown as "target >= x" when non-zero
};

int register_ratio(Ratio ratio);
inline int register_ratio(std::string label, std::string numerator, std::string denominator, Metric metric,
                          std::string counter = {}, double target = 0) {
  return register_ratio(Ratio{std::move(label), std::move(numerator), std::move(denominator), metric,
                              std::move(counter), target});
}

}  // namespace vitrine::bench

#define VITRINE_BENCH_CAT2(a, b) a##b
#define VITRINE_BENCH_CAT(a, b) VITRINE_BENCH_CAT2(a, b)
#define VITRINE_BENCH_RATIO(...) \
  static const int VITRINE_BENCH_CAT(vitrine_ratio_, __COUNTER__) = ::vitrine::bench::register_ratio(__VA_ARGS__)
