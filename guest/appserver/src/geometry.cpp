#include "geometry.hpp"

#include <algorithm>

namespace vitrine::appserver {

Rect Rect::intersect(const Rect& o) const {
  const int32_t x0 = std::max(x, o.x);
  const int32_t y0 = std::max(y, o.y);
  const int32_t x1 = std::min(x + width, o.x + o.width);
  const int32_t y1 = std::min(y + height, o.y + o.height);
  if (x1 <= x0 || y1 <= y0) return {};
  return {x0, y0, x1 - x0, y1 - y0};
}

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

DamageRegion::DamageRegion() { pixman_region32_init(&region_); }
DamageRegion::~DamageRegion() { pixman_region32_fini(&region_); }

void DamageRegion::add(const Rect& r) {
  if (r.empty()) return;
  pixman_region32_union_rect(&region_, &region_, r.x, r.y, static_cast<unsigned>(r.width),
                             static_cast<unsigned>(r.height));
}

void DamageRegion::subtract(const DamageRegion& other) {
  pixman_region32_subtract(&region_, &region_, const_cast<pixman_region32_t*>(&other.region_));
}

void DamageRegion::clear() {
  pixman_region32_fini(&region_);
  pixman_region32_init(&region_);
}

bool DamageRegion::empty() const {
  return !pixman_region32_not_empty(const_cast<pixman_region32_t*>(&region_));
}

std::vector<Rect> DamageRegion::rects(const Rect& bounds, size_t max_rects) const {
  pixman_region32_t clipped;
  pixman_region32_init_rect(&clipped, bounds.x, bounds.y, static_cast<unsigned>(std::max(0, bounds.width)),
                            static_cast<unsigned>(std::max(0, bounds.height)));
  pixman_region32_intersect(&clipped, &clipped, const_cast<pixman_region32_t*>(&region_));
  std::vector<Rect> out;
  int n = 0;
  const pixman_box32_t* boxes = pixman_region32_rectangles(&clipped, &n);
  if (static_cast<size_t>(n) > max_rects) {
    const pixman_box32_t* e = pixman_region32_extents(&clipped);
    out.push_back({e->x1, e->y1, e->x2 - e->x1, e->y2 - e->y1});
  } else {
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
      out.push_back({boxes[i].x1, boxes[i].y1, boxes[i].x2 - boxes[i].x1, boxes[i].y2 - boxes[i].y1});
  }
  pixman_region32_fini(&clipped);
  return out;
}

}  // namespace vitrine::appserver
