// Typed coordinates. Three spaces exist and are never mixed silently:
//   desktop  - the remote desktop / framebuffer: origin at the framebuffer's top-left pixel.
//   window   - one window's own pixels: origin at the window's top-left corner.
//   host     - the host screen (X11 root window). Today host == desktop (1:1, no scaling, no
//              offset); the distinct type keeps HiDPI and multi-monitor mapping a local change.
// All units are pixels; y grows downwards in every space.
#pragma once

#include <cstdint>

#include "vitrine/base/rect.hpp"

namespace vitrine::compositor {

// The rectangle and point types are base's (vitrine/base/rect.hpp: intersect, unite, clip,
// contains, overflow-free area); the compositor names its three spaces.
template <typename Space>
using Point = base::Point<Space>;
template <typename Space>
using Rect = base::Rect<Space>;

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
