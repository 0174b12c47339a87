// Regions of pixels in the compositor's spaces, on base's pixman region (vitrine/base/region.hpp:
// move-only, clamped coordinates, cap_rects). `DamageRegion` is a region in desktop coordinates:
// what FreeRDP's paint callbacks (or any other pixel producer) report.
//
// The space is part of the type: a DamageRegion cannot be passed where a WindowRegion is
// expected; to_window()/to_desktop() translate by the window's desktop rectangle.
// Not thread-safe: one owner thread.
#pragma once

#include "vitrine/base/region.hpp"
#include "vitrine/compositor/geometry.hpp"

namespace vitrine::compositor {

template <typename Space>
using Region = base::Region<Space>;

using DamageRegion = Region<DesktopSpace>;
using WindowRegion = Region<WindowSpace>;

// `window` is the window's rectangle in desktop coordinates.
WindowRegion to_window(const DamageRegion& region, const DesktopRect& window);
DamageRegion to_desktop(const WindowRegion& region, const DesktopRect& window);

}  // namespace vitrine::compositor
