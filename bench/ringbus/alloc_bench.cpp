// mimalloc vs glibc malloc for the allocation pattern of the host process (control messages,
// window titles, icon buffers: 32 B .. 64 KiB, allocated in bursts and freed out of order).
// The host executables link mimalloc (cmake: vitrine_host_executable); this benchmark is why.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "bench_main.hpp"

#if VITRINE_HAVE_MIMALLOC
#include <mimalloc.h>
#endif

extern "C" void* __libc_malloc(std::size_t);  // glibc's own allocator, even when mimalloc overrides malloc
extern "C" void __libc_free(void*);

namespace {

template <void* (*Alloc)(std::size_t), void (*Free)(void*)>
void alloc_burst(benchmark::State& state) {
  const auto max = static_cast<std::size_t>(state.range(0));
  std::mt19937 rng(1);
  std::vector<std::size_t> sizes(1024);
  for (auto& s : sizes) s = 32 + rng() % max;
  std::vector<void*> live(sizes.size());
  std::vector<std::size_t> order(sizes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = (i * 389) % order.size();  // out-of-order frees
  for (auto _ : state) {
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      live[i] = Alloc(sizes[i]);
      static_cast<char*>(live[i])[0] = 1;
    }
    benchmark::DoNotOptimize(live.data());
    for (std::size_t i : order) Free(live[i]);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * sizes.size()));
}

void* glibc_alloc(std::size_t n) { return __libc_malloc(n); }
void glibc_free(void* p) { __libc_free(p); }

void BM_MallocFree_glibc(benchmark::State& s) { alloc_burst<glibc_alloc, glibc_free>(s); }
BENCHMARK(BM_MallocFree_glibc)->Arg(256)->Arg(4096)->Arg(65536);

#if VITRINE_HAVE_MIMALLOC
void* mi_alloc(std::size_t n) { return mi_malloc(n); }
void mi_release(void* p) { mi_free(p); }
void BM_MallocFree_mimalloc(benchmark::State& s) { alloc_burst<mi_alloc, mi_release>(s); }
BENCHMARK(BM_MallocFree_mimalloc)->Arg(256)->Arg(4096)->Arg(65536);

using vitrine::bench::Metric;
VITRINE_BENCH_RATIO("mimalloc / glibc malloc, <= 256 B", "BM_MallocFree_mimalloc/256", "BM_MallocFree_glibc/256",
                    Metric::kItemsPerSecond);
VITRINE_BENCH_RATIO("mimalloc / glibc malloc, <= 4 KiB", "BM_MallocFree_mimalloc/4096", "BM_MallocFree_glibc/4096",
                    Metric::kItemsPerSecond);
VITRINE_BENCH_RATIO("mimalloc / glibc malloc, <= 64 KiB", "BM_MallocFree_mimalloc/65536",
                    "BM_MallocFree_glibc/65536", Metric::kItemsPerSecond);
#endif

}  // namespace
