#include "vitrine/ringbus/surface_pool.hpp"

#include <algorithm>
#include <iterator>

namespace vitrine::ringbus {

SurfacePool::SurfacePool(std::uint64_t size) : size_(size & ~(kAlign - 1)), free_bytes_(size_) {
  if (size_ != 0) free_.emplace(0, size_);
}

std::optional<std::uint64_t> SurfacePool::allocate(std::uint64_t bytes) {
  if (bytes == 0 || bytes > size_) return std::nullopt;
  const std::uint64_t need = (bytes + kAlign - 1) & ~(kAlign - 1);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < need) continue;
    const std::uint64_t offset = it->first;
    const std::uint64_t rest = it->second - need;
    free_.erase(it);
    if (rest != 0) free_.emplace(offset + need, rest);
    used_.emplace(offset, need);
    free_bytes_ -= need;
    return offset;
  }
  return std::nullopt;
}

bool SurfacePool::free(std::uint64_t offset) {
  const auto used = used_.find(offset);
  if (used == used_.end()) return false;
  std::uint64_t begin = offset;
  std::uint64_t length = used->second;
  used_.erase(used);
  free_bytes_ += length;
  // Merge with the free run after, then with the one before: the list never holds neighbours.
  if (auto next = free_.find(begin + length); next != free_.end()) {
    length += next->second;
    free_.erase(next);
  }
  if (auto next = free_.lower_bound(begin); next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == begin) {
      begin = prev->first;
      length += prev->second;
      free_.erase(prev);
    }
  }
  free_.emplace(begin, length);
  return true;
}

std::uint64_t SurfacePool::largest_free() const {
  std::uint64_t best = 0;
  for (const auto& [offset, length] : free_) best = std::max(best, length);
  return best;
}

}  // namespace vitrine::ringbus
