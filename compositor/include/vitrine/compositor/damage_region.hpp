// A region of pixels in one coordinate space, on pixman's region32 (y-x banded rectangles,
// the representation X11, wlroots and weston use). `DamageRegion` is a region in desktop
// coordinates: what FreeRDP's paint callbacks (or any other pixel producer) report.
//
// The space is part of the type: a DamageRegion cannot be passed where a WindowRegion is
// expected; to_window()/to_desktop() translate by the window's desktop rectangle.
//
// Coordinates are clamped to the int32 range pixman can hold; empty rectangles are ignored.
// Not thread-safe: one owner thread.
#pragma once

#include <pixman.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "vitrine/compositor/geometry.hpp"

namespace vitrine::compositor {

template <typename Space>
class Region {
 public:
  using RectT = Rect<Space>;

  Region();
  explicit Region(const RectT& rect);
  Region(const Region& other);
  Region(Region&& other) noexcept;
  Region& operator=(const Region& other);
  Region& operator=(Region&& other) noexcept;
  ~Region();

  void clear();
  void add(const RectT& rect);
  void add(const Region& other);
  void subtract(const RectT& rect);
  void subtract(const Region& other);
  void intersect(const RectT& rect);
  void intersect(const Region& other);
  void translate(std::int32_t dx, std::int32_t dy);

  [[nodiscard]] bool empty() const;
  [[nodiscard]] bool intersects(const RectT& rect) const;
  [[nodiscard]] bool contains(Point<Space> p) const;
  [[nodiscard]] RectT extents() const;
  [[nodiscard]] std::size_t rect_count() const;
  // Number of pixels covered (rectangles of a region never overlap).
  [[nodiscard]] std::int64_t area() const;
  // The rectangles, y-x banded, non-overlapping. Valid until the next mutation.
  [[nodiscard]] std::span<const pixman_box32_t> boxes() const;
  [[nodiscard]] std::vector<RectT> rects() const;

  // Caps the rectangle count: past `max_rects` the region becomes its bounding box
  // (wlroots' damage ring does the same). Returns true when it merged. Uploading the box
  // costs more bytes but one GL call instead of thousands.
  bool cap_rects(std::size_t max_rects);

  friend bool operator==(const Region& a, const Region& b) {
    return pixman_region32_equal(const_cast<pixman_region32_t*>(&a.region_),
                                 const_cast<pixman_region32_t*>(&b.region_));
  }

  [[nodiscard]] pixman_region32_t* native() { return &region_; }
  [[nodiscard]] const pixman_region32_t* native() const { return &region_; }

 private:
  pixman_region32_t region_;
};

using DamageRegion = Region<DesktopSpace>;
using WindowRegion = Region<WindowSpace>;

// `window` is the window's rectangle in desktop coordinates.
WindowRegion to_window(const DamageRegion& region, const DesktopRect& window);
DamageRegion to_desktop(const WindowRegion& region, const DesktopRect& window);

extern template class Region<DesktopSpace>;
extern template class Region<WindowSpace>;

}  // namespace vitrine::compositor
