#include "geometry.hpp"

#include <algorithm>

namespace vitrine::appserver {

Rect align_horizontally(const Rect& r, const Rect& bounds, int32_t align) {
  Rect out = r.intersect(bounds);
  if (out.empty() || align <= 1) return out;
  int32_t x0 = out.x - ((out.x - bounds.x) % align);
  int32_t x1 = out.x + out.width;
  if (const int32_t rem = (x1 - x0) % align; rem != 0) x1 += align - rem;
  // At the right edge of the desktop grow leftwards instead.
  const int32_t right = bounds.x + bounds.width;
  if (x1 > right) {
    x0 = std::max(bounds.x, x0 - (x1 - right));
    x1 = right;
  }
  out.x = x0;
  out.width = x1 - x0;
  return out;
}

std::vector<Rect> split_into_tiles(const Rect& r, int32_t tile) {
  std::vector<Rect> tiles;
  if (r.empty() || tile <= 0) return tiles;
  for (int32_t ty = r.y; ty < r.y + r.height; ty += tile) {
    for (int32_t tx = r.x; tx < r.x + r.width; tx += tile) {
      tiles.push_back({tx, ty, std::min(tile, r.x + r.width - tx), std::min(tile, r.y + r.height - ty)});
    }
  }
  return tiles;
}

}  // namespace vitrine::appserver
