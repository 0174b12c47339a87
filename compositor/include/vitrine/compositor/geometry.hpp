// Typed coordinates. Three spaces exist and are never mixed silently:
//   desktop  - the remote desktop / framebuffer: origin at the framebuffer's top-left pixel.
//   window   - one window's own pixels: origin at the window's top-left corner.
//   host     - the host screen (X11 root window). Today host == desktop (1:1, no scaling, no
//              offset); the distinct type keeps HiDPI and multi-monitor mapping a local change.
// All units are pixels; y grows downwards in every space.
#pragma once

#include <algorithm>
#include <cstdint>

namespace vitrine::compositor {

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

  [[nodiscard]] bool empty() const { return width <= 0 || height <= 0; }
  [[nodiscard]] std::int64_t area() const {
    return empty() ? 0 : static_cast<std::int64_t>(width) * height;
  }
  [[nodiscard]] Point<Space> origin() const { return {x, y}; }
  [[nodiscard]] bool contains(Point<Space> p) const {
    return p.x >= x && p.y >= y && p.x - x < width && p.y - y < height;
  }
  [[nodiscard]] Rect intersect(const Rect& o) const {
    const std::int64_t x0 = std::max<std::int64_t>(x, o.x);
    const std::int64_t y0 = std::max<std::int64_t>(y, o.y);
    const std::int64_t x1 = std::min<std::int64_t>(std::int64_t{x} + width, std::int64_t{o.x} + o.width);
    const std::int64_t y1 = std::min<std::int64_t>(std::int64_t{y} + height, std::int64_t{o.y} + o.height);
    if (x1 <= x0 || y1 <= y0) return {};
    return {static_cast<std::int32_t>(x0), static_cast<std::int32_t>(y0),
            static_cast<std::int32_t>(x1 - x0), static_cast<std::int32_t>(y1 - y0)};
  }
  friend bool operator==(const Rect&, const Rect&) = default;
};

struct DesktopSpace {};
struct WindowSpace {};
struct HostSpace {};

using DesktopPoint = Point<DesktopSpace>;
using WindowPoint = Point<WindowSpace>;
using HostPoint = Point<HostSpace>;
using DesktopRect = Rect<DesktopSpace>;
using WindowRect = Rect<WindowSpace>;
using HostRect = Rect<HostSpace>;

// Desktop <-> window conversions need the window's rectangle in desktop coordinates.
inline WindowPoint to_window(DesktopPoint p, const DesktopRect& window) {
  return {p.x - window.x, p.y - window.y};
}
inline DesktopPoint to_desktop(WindowPoint p, const DesktopRect& window) {
  return {p.x + window.x, p.y + window.y};
}
// The identity mapping of today (see header comment).
inline HostRect to_host(const DesktopRect& r) { return {r.x, r.y, r.width, r.height}; }
inline DesktopRect to_desktop(const HostRect& r) { return {r.x, r.y, r.width, r.height}; }
inline DesktopPoint to_desktop(HostPoint p) { return {p.x, p.y}; }

}  // namespace vitrine::compositor
