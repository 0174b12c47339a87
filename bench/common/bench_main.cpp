#include "bench_main.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

namespace vitrine::bench {
namespace {

std::vector<Ratio>& ratios() {
  static std::vector<Ratio> r;
  return r;
}

struct Sample {
  double bytes_per_second = 0;
  double items_per_second = 0;
  double real_time_ns = 0;
  std::map<std::string, double> counters;
};

// Collects every run while forwarding to the normal console reporter.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  std::map<std::string, Sample> samples;

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      Sample s;
      s.real_time_ns = run.GetAdjustedRealTime() *
                       (run.time_unit == benchmark::kNanosecond    ? 1.0
                        : run.time_unit == benchmark::kMicrosecond ? 1e3
                        : run.time_unit == benchmark::kMillisecond ? 1e6
                                                                   : 1e9);
      for (const auto& [name, counter] : run.counters) s.counters[name] = counter.value;
      if (auto it = run.counters.find("bytes_per_second"); it != run.counters.end())
        s.bytes_per_second = it->second.value;
      if (auto it = run.counters.find("items_per_second"); it != run.counters.end())
        s.items_per_second = it->second.value;
      samples[run.benchmark_name()] = s;
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

double value(const Sample& s, const Ratio& r, bool numerator) {
  switch (r.metric) {
    case Metric::kBytesPerSecond: return s.bytes_per_second;
    case Metric::kItemsPerSecond: return s.items_per_second;
    case Metric::kTimeInverse: return numerator ? 1.0 / s.real_time_ns : 1.0 / s.real_time_ns;
    case Metric::kCounter: {
      auto it = s.counters.find(r.counter);
      return it == s.counters.end() ? 0 : it->second;
    }
  }
  return 0;
}

}  // namespace

int register_ratio(Ratio ratio) {
  ratios().push_back(std::move(ratio));
  return static_cast<int>(ratios().size());
}

}  // namespace vitrine::bench

int main(int argc, char** argv) {
  using namespace vitrine::bench;
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--benchmark_out=", 0) == 0) out_path = a.substr(16);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  std::string json = "[\n";
  bool any = false;
  std::printf("\nSame-run ratios (higher = the first is better):\n");
  for (const Ratio& r : ratios()) {
    auto n = reporter.samples.find(r.numerator);
    auto d = reporter.samples.find(r.denominator);
    if (n == reporter.samples.end() || d == reporter.samples.end()) continue;
    const double nv = value(n->second, r, true), dv = value(d->second, r, false);
    if (dv == 0) continue;
    const double ratio = nv / dv;
    const bool met = r.target == 0 || ratio >= r.target;
    std::printf("  %-52s %9.2fx", r.label.c_str(), ratio);
    if (r.target != 0) std::printf("   (target >= %.2fx: %s)", r.target, met ? "met" : "MISSED");
    std::printf("\n");
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s  {\"label\": \"%s\", \"numerator\": \"%s\", \"denominator\": \"%s\", \"ratio\": %.4f, "
                  "\"target\": %.4f, \"met\": %s}",
                  any ? ",\n" : "", r.label.c_str(), r.numerator.c_str(), r.denominator.c_str(), ratio,
                  r.target, met ? "true" : "false");
    json += line;
    any = true;
  }
  json += "\n]\n";
  if (!out_path.empty()) std::ofstream(out_path + ".ratios.json") << json;
  return 0;
}
