#include "vitrine/compositor/damage_region.hpp"

namespace vitrine::compositor {

// A region changes space by a copy of its rectangles, translated by the window's origin.
WindowRegion to_window(const DamageRegion& region, const DesktopRect& window) {
  WindowRegion out;
  pixman_region32_copy(out.native(), const_cast<pixman_region32_t*>(region.native()));
  out.translate(-window.x, -window.y);
  return out;
}

DamageRegion to_desktop(const WindowRegion& region, const DesktopRect& window) {
  DamageRegion out;
  pixman_region32_copy(out.native(), const_cast<pixman_region32_t*>(region.native()));
  out.translate(window.x, window.y);
  return out;
}

}  // namespace vitrine::compositor
