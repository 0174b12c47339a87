// Typed points and rectangles. `Space` is an empty tag naming the coordinate space (the
// compositor's DesktopSpace / WindowSpace / HostSpace, the appserver's ScreenSpace, a surface's
// own pixels); rectangles of different spaces do not mix without a named conversion.
//
// Half-open: a Rect covers x <= px < x + width, y <= py < y + height. Units are pixels; y grows
// downwards. Edges are computed in 64 bits, so no operation overflows on hostile int32 values;
// results that do not fit int32 are clamped (they can only come from such values).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace vitrine::base {

template <typename Space>
struct Point {
  std::int32_t x = 0;
  std::int32_t y = 0;
  friend bool operator==(const Point&, const Point&) = default;
};

template <typename Space>
struct Rect {
  std::int32_t x = 0;
  std::int32_t y = 0;
  std::int32_t width = 0;
  std::int32_t height = 0;

  // Exclusive right and bottom edges, in 64 bits (x + width may not fit int32).
  [[nodiscard]] std::int64_t right() const { return std::int64_t{x} + width; }
  [[nodiscard]] std::int64_t bottom() const { return std::int64_t{y} + height; }

  [[nodiscard]] bool empty() const { return width <= 0 || height <= 0; }
  // Pixels covered; 0 when empty. At most (2^31 - 1)^2: fits int64.
  [[nodiscard]] std::int64_t area() const { return empty() ? 0 : std::int64_t{width} * height; }
  [[nodiscard]] Point<Space> origin() const { return {x, y}; }

  [[nodiscard]] bool contains(Point<Space> p) const {
    return !empty() && p.x >= x && p.y >= y && std::int64_t{p.x} < right() && std::int64_t{p.y} < bottom();
  }
  // Every pixel of `o` is in this rectangle (an empty `o` is in every rectangle). Not an
  // overload of contains(): contains({x, y}) must stay unambiguous.
  [[nodiscard]] bool contains_rect(const Rect& o) const {
    if (o.empty()) return true;
    return !empty() && o.x >= x && o.y >= y && o.right() <= right() && o.bottom() <= bottom();
  }

  // The common part; an empty Rect{} when they do not overlap.
  [[nodiscard]] Rect intersect(const Rect& o) const {
    const std::int64_t x0 = std::max<std::int64_t>(x, o.x);
    const std::int64_t y0 = std::max<std::int64_t>(y, o.y);
    const std::int64_t x1 = std::min(right(), o.right());
    const std::int64_t y1 = std::min(bottom(), o.bottom());
    if (x1 <= x0 || y1 <= y0) return {};
    return from_edges(x0, y0, x1, y1);
  }
  // The same as intersect(): clipping to bounds is an intersection; named for call sites.
  [[nodiscard]] Rect clip(const Rect& bounds) const { return intersect(bounds); }

  // The bounding box of both (not the pixel union); an empty operand does not count.
  [[nodiscard]] Rect unite(const Rect& o) const {
    if (empty()) return o.empty() ? Rect{} : o;
    if (o.empty()) return *this;
    return from_edges(std::min<std::int64_t>(x, o.x), std::min<std::int64_t>(y, o.y), std::max(right(), o.right()),
                      std::max(bottom(), o.bottom()));
  }

  [[nodiscard]] bool intersects(const Rect& o) const { return !intersect(o).empty(); }

  // A rectangle from 64-bit edges, clamped to what int32 fields hold.
  [[nodiscard]] static Rect from_edges(std::int64_t x0, std::int64_t y0, std::int64_t x1, std::int64_t y1) {
    constexpr std::int64_t lo = std::numeric_limits<std::int32_t>::min();
    constexpr std::int64_t hi = std::numeric_limits<std::int32_t>::max();
    x0 = std::clamp(x0, lo, hi);
    y0 = std::clamp(y0, lo, hi);
    const std::int64_t w = std::clamp<std::int64_t>(x1 - x0, 0, hi);
    const std::int64_t h = std::clamp<std::int64_t>(y1 - y0, 0, hi);
    return {static_cast<std::int32_t>(x0), static_cast<std::int32_t>(y0), static_cast<std::int32_t>(w),
            static_cast<std::int32_t>(h)};
  }

  friend bool operator==(const Rect&, const Rect&) = default;
};

}  // namespace vitrine::base
