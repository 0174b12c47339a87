// SurfacePool: the guest's allocator for the bus's surface pool (layout.hpp). The guest owns the
// pool's space and hands out page-aligned pixel buffers; the host never allocates, it only
// checks that the offsets a surface message names lie inside the pool (Bus::surface_bytes).
//
// The allocator's bookkeeping lives in the guest's private memory, never in the pool: the host
// could not corrupt it, and a guest that corrupts its own only paints its own windows wrongly.
// First fit over an ordered free list, neighbours merged on free: windows come and go in tens,
// not millions, so a simple allocator whose state is easy to check beats a clever one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace vitrine::ringbus {

class SurfacePool {
 public:
  static constexpr std::uint64_t kAlign = 4096;  // page: buffers map and upload well

  // Manages pool-relative offsets [0, size); size is rounded down to kAlign.
  explicit SurfacePool(std::uint64_t size);

  // A pool-relative offset of `bytes` (rounded up to kAlign), or nullopt when no free run fits.
  [[nodiscard]] std::optional<std::uint64_t> allocate(std::uint64_t bytes);
  // Returns a buffer from allocate(). False (and nothing changes) for an offset it did not give.
  bool free(std::uint64_t offset);

  [[nodiscard]] std::uint64_t size() const { return size_; }
  [[nodiscard]] std::uint64_t bytes_free() const { return free_bytes_; }
  [[nodiscard]] std::uint64_t largest_free() const;
  [[nodiscard]] std::size_t allocations() const { return used_.size(); }

 private:
  std::uint64_t size_;
  std::uint64_t free_bytes_;
  std::map<std::uint64_t, std::uint64_t> free_;  // offset -> length, no two adjacent
  std::map<std::uint64_t, std::uint64_t> used_;  // offset -> length
};

}  // namespace vitrine::ringbus
