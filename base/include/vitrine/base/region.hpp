// A region of pixels in one coordinate space, on pixman's region32 (y-x banded, non-overlapping
// rectangles: the representation X11, wlroots and weston use). Damage is kept in these: overlap
// merges, and cap_rects() turns a storm of tiny rectangles into one bounding box.
//
// The space is part of the type (see rect.hpp); translating between spaces is the caller's named
// conversion (the compositor's to_window / to_desktop).
//
// Coordinates are clamped to +-2^30 so that pixman's int32 x2 - x1 cannot overflow; empty
// rectangles are ignored. Move-only (a copy allocates: ask for it with copy()). Not thread-safe:
// one owner thread. Target vitrine::base_region (links pixman).
#pragma once

#include <pixman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "vitrine/base/rect.hpp"

namespace vitrine::base {

namespace region_detail {

inline constexpr std::int64_t kMin = std::numeric_limits<std::int32_t>::min() / 2;
inline constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max() / 2;

inline std::int32_t clamp_coord(std::int64_t v) { return static_cast<std::int32_t>(std::clamp(v, kMin, kMax)); }

// pixman's API takes non-const pointers even for reads.
inline pixman_region32_t* mut(const pixman_region32_t* r) { return const_cast<pixman_region32_t*>(r); }

}  // namespace region_detail

template <typename Space>
class Region {
 public:
  using RectT = Rect<Space>;

  Region() { pixman_region32_init(&region_); }
  explicit Region(const RectT& rect) : Region() { add(rect); }
  Region(Region&& other) noexcept : Region() {
    // pixman has no move: swap the structs (they hold a pointer to heap data or to pixman's
    // static empty marker, both valid after a bitwise swap).
    std::swap(region_, other.region_);
  }
  Region& operator=(Region&& other) noexcept {
    std::swap(region_, other.region_);
    return *this;
  }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  ~Region() { pixman_region32_fini(&region_); }

  [[nodiscard]] Region copy() const {
    Region out;
    pixman_region32_copy(&out.region_, region_detail::mut(&region_));
    return out;
  }
  void assign(const Region& other) {
    if (this != &other) pixman_region32_copy(&region_, region_detail::mut(&other.region_));
  }

  void clear() { pixman_region32_clear(&region_); }

  void add(const RectT& rect) {
    if (rect.empty()) return;
    const pixman_box32_t b = to_box(rect);
    if (b.x2 <= b.x1 || b.y2 <= b.y1) return;
    pixman_region32_union_rect(&region_, &region_, b.x1, b.y1, static_cast<unsigned>(b.x2 - b.x1),
                               static_cast<unsigned>(b.y2 - b.y1));
  }
  void add(const Region& other) { pixman_region32_union(&region_, &region_, region_detail::mut(&other.region_)); }

  void subtract(const RectT& rect) { subtract(Region(rect)); }
  void subtract(const Region& other) {
    pixman_region32_subtract(&region_, &region_, region_detail::mut(&other.region_));
  }

  void intersect(const RectT& rect) {
    if (rect.empty()) {
      clear();
      return;
    }
    const pixman_box32_t b = to_box(rect);
    pixman_region32_intersect_rect(&region_, &region_, b.x1, b.y1, static_cast<unsigned>(b.x2 - b.x1),
                                   static_cast<unsigned>(b.y2 - b.y1));
  }
  void intersect(const Region& other) {
    pixman_region32_intersect(&region_, &region_, region_detail::mut(&other.region_));
  }

  // Moves every rectangle by (dx, dy); what would leave the clamp range is cut off first.
  void translate(std::int32_t dx, std::int32_t dy) {
    using region_detail::kMax;
    using region_detail::kMin;
    if (empty()) return;
    const RectT e = bounds();
    const std::int64_t nx0 = std::int64_t{e.x} + dx, ny0 = std::int64_t{e.y} + dy;
    const std::int64_t nx1 = nx0 + e.width, ny1 = ny0 + e.height;
    if (nx0 < kMin || ny0 < kMin || nx1 > kMax || ny1 > kMax) {
      const std::int64_t cx0 = std::max<std::int64_t>(nx0, kMin) - dx;
      const std::int64_t cy0 = std::max<std::int64_t>(ny0, kMin) - dy;
      const std::int64_t cx1 = std::min<std::int64_t>(nx1, kMax) - dx;
      const std::int64_t cy1 = std::min<std::int64_t>(ny1, kMax) - dy;
      if (cx1 <= cx0 || cy1 <= cy0) {
        clear();
        return;
      }
      pixman_region32_intersect_rect(&region_, &region_, static_cast<std::int32_t>(cx0),
                                     static_cast<std::int32_t>(cy0), static_cast<unsigned>(cx1 - cx0),
                                     static_cast<unsigned>(cy1 - cy0));
    }
    pixman_region32_translate(&region_, dx, dy);
  }

  [[nodiscard]] bool empty() const { return !pixman_region32_not_empty(region_detail::mut(&region_)); }
  [[nodiscard]] bool intersects(const RectT& rect) const {
    if (rect.empty()) return false;
    pixman_box32_t b = to_box(rect);
    return pixman_region32_contains_rectangle(region_detail::mut(&region_), &b) != PIXMAN_REGION_OUT;
  }
  [[nodiscard]] bool contains(Point<Space> p) const {
    return pixman_region32_contains_point(region_detail::mut(&region_), p.x, p.y, nullptr);
  }
  // The bounding box; Rect{} when empty.
  [[nodiscard]] RectT bounds() const {
    if (empty()) return {};
    return to_rect(*pixman_region32_extents(region_detail::mut(&region_)));
  }
  [[nodiscard]] std::size_t rect_count() const {
    return static_cast<std::size_t>(pixman_region32_n_rects(region_detail::mut(&region_)));
  }
  // Pixels covered (the rectangles never overlap).
  [[nodiscard]] std::int64_t area() const {
    std::int64_t sum = 0;
    for (const auto& b : boxes()) sum += std::int64_t{b.x2 - b.x1} * (b.y2 - b.y1);
    return sum;
  }
  // The rectangles, y-x banded, non-overlapping. Valid until the next mutation.
  [[nodiscard]] std::span<const pixman_box32_t> boxes() const {
    int n = 0;
    const pixman_box32_t* b = pixman_region32_rectangles(region_detail::mut(&region_), &n);
    return {b, static_cast<std::size_t>(n)};
  }
  [[nodiscard]] std::vector<RectT> rects() const {
    std::vector<RectT> out;
    out.reserve(rect_count());
    for (const auto& b : boxes()) out.push_back(to_rect(b));
    return out;
  }

  // The rectangles inside `bounds`, or past `max_rects` their bounding box (one rectangle):
  // what an encoder sends for this damage. The region itself is unchanged.
  [[nodiscard]] std::vector<RectT> rects(const RectT& bounds, std::size_t max_rects) const {
    Region clipped = copy();
    clipped.intersect(bounds);
    clipped.cap_rects(max_rects);
    return clipped.rects();
  }

  // Caps the rectangle count: past `max_rects` the region becomes its bounding box (wlroots'
  // damage ring does the same). Returns true when it merged: uploading or encoding the box
  // costs more bytes but one call instead of thousands.
  bool cap_rects(std::size_t max_rects) {
    if (rect_count() <= max_rects) return false;
    const pixman_box32_t e = *pixman_region32_extents(&region_);
    pixman_region32_fini(&region_);
    pixman_region32_init_rect(&region_, e.x1, e.y1, static_cast<unsigned>(e.x2 - e.x1),
                              static_cast<unsigned>(e.y2 - e.y1));
    return true;
  }

  friend bool operator==(const Region& a, const Region& b) {
    return pixman_region32_equal(region_detail::mut(&a.region_), region_detail::mut(&b.region_));
  }

  [[nodiscard]] pixman_region32_t* native() { return &region_; }
  [[nodiscard]] const pixman_region32_t* native() const { return &region_; }

  static pixman_box32_t to_box(const RectT& r) {
    using region_detail::clamp_coord;
    return {clamp_coord(r.x), clamp_coord(r.y), clamp_coord(r.right()), clamp_coord(r.bottom())};
  }
  static RectT to_rect(const pixman_box32_t& b) { return {b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1}; }

 private:
  pixman_region32_t region_;
};

}  // namespace vitrine::base
