// Replaces the global operator new/delete of hv_kvm_test with malloc/free plus a counter. The
// array, sized and nothrow forms of the standard library forward to these two; aligned forms
// keep their own pairing and go uncounted (nothing under test uses them).
#include "allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}

namespace vitrine::hv::kvm::test {
std::uint64_t allocations() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace vitrine::hv::kvm::test

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);  // a count only: orders nothing
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
