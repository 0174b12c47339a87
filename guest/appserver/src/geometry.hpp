// Rectangles and damage regions in desktop coordinates (the X screen's pixel grid, origin at
// the top-left of the root window). The RDP desktop of a session is the same grid, so one
// coordinate space serves capture and encoding; window-relative rectangles are named so.
#pragma once

#include <pixman.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vitrine::appserver {

// Half-open rectangle: covers x <= px < x + width, y <= py < y + height.
struct Rect {
  int32_t x = 0;
  int32_t y = 0;
  int32_t width = 0;
  int32_t height = 0;

  [[nodiscard]] bool empty() const { return width <= 0 || height <= 0; }
  [[nodiscard]] int64_t area() const { return empty() ? 0 : int64_t{width} * height; }
  [[nodiscard]] Rect intersect(const Rect& o) const;
  friend bool operator==(const Rect&, const Rect&) = default;
};

// Grows `r` so that x and width are multiples of `align` (RDP bitmap tiles want widths that
// are multiples of 4), staying inside `bounds`.
[[nodiscard]] Rect align_horizontally(const Rect& r, const Rect& bounds, int32_t align);

// Splits `r` into tiles of at most tile x tile pixels, row-major.
[[nodiscard]] std::vector<Rect> split_into_tiles(const Rect& r, int32_t tile);

// Damage accumulated between two flushes, desktop coordinates. A pixman region (wlroots'
// choice): overlapping damage is merged, and the rectangle count is capped so that a storm of
// tiny updates degrades to a bounding box instead of thousands of PDUs.
class DamageRegion {
 public:
  DamageRegion();
  ~DamageRegion();
  DamageRegion(const DamageRegion&) = delete;
  DamageRegion& operator=(const DamageRegion&) = delete;

  void add(const Rect& r);
  void subtract(const DamageRegion& other);
  void clear();
  [[nodiscard]] bool empty() const;
  // Rectangles clipped to `bounds`; past `max_rects` the bounding box of the region instead.
  [[nodiscard]] std::vector<Rect> rects(const Rect& bounds, size_t max_rects) const;

 private:
  pixman_region32_t region_;
};

}  // namespace vitrine::appserver
