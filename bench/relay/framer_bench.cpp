// BM_PduFramer: PduFramer throughput over a recorded freerdp-shadow session (server -> client,
// captured by tests/guest/relay/rdp_e2e_test.cpp) and a synthetic session with large updates.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "bench_main.hpp"
#include "rdp_stream.hpp"
#include "vitrine/rdpmux/pdu_framer.hpp"

namespace {

using namespace vitrine;

std::vector<std::byte> recorded_session() {
  std::ifstream in(VITRINE_RECORDED_SESSION, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(raw.size());
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

void frame_stream(benchmark::State& state, const std::vector<std::byte>& data) {
  if (data.empty()) {
    state.SkipWithError("no stream data");
    return;
  }
  const std::size_t chunk = static_cast<std::size_t>(state.range(0));
  std::uint64_t pdus = 0;
  for (auto _ : state) {
    rdpmux::PduFramer f;
    std::span<const std::byte> all(data);
    for (std::size_t pos = 0; pos < all.size(); pos += chunk) {
      std::span<const std::byte> rest = all.subspan(pos, std::min(chunk, all.size() - pos));
      while (!rest.empty()) {
        auto r = f.feed(rest);
        if (!r) {
          state.SkipWithError(r.error().message.c_str());
          return;
        }
        rest = rest.subspan(r->consumed);
      }
    }
    pdus += f.pdus();
    benchmark::DoNotOptimize(pdus);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
  state.counters["pdus_per_s"] = benchmark::Counter(static_cast<double>(pdus), benchmark::Counter::kIsRate);
}

void BM_PduFramer_Recorded(benchmark::State& state) {
  static const auto data = recorded_session();
  frame_stream(state, data);
}
BENCHMARK(BM_PduFramer_Recorded)->Arg(65536)->Arg(1500);

void BM_PduFramer_Synthetic(benchmark::State& state) {
  static const auto stream = rdpmux::testing::session_stream(1, 20000);
  frame_stream(state, stream.data);
}
BENCHMARK(BM_PduFramer_Synthetic)->Arg(65536);

// Baseline: the memory bandwidth of reading the same bytes once (xor-fold), which is what a
// framer would cost if it had to look at every byte.
void BM_TouchEveryByte(benchmark::State& state) {
  static const auto stream = rdpmux::testing::session_stream(1, 20000);
  for (auto _ : state) {
    std::uint64_t acc = 0;
    const auto* p = reinterpret_cast<const std::uint64_t*>(stream.data.data());
    for (std::size_t i = 0; i < stream.data.size() / 8; ++i) acc ^= p[i];
    benchmark::DoNotOptimize(acc);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.data.size()));
}
BENCHMARK(BM_TouchEveryByte);

VITRINE_BENCH_RATIO("PduFramer (synthetic) vs reading every byte", "BM_PduFramer_Synthetic/65536",
                    "BM_TouchEveryByte", vitrine::bench::Metric::kBytesPerSecond);

}  // namespace
