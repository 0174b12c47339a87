// Typed coordinates. Every position that crosses this room's boundary says which space it is
// in: desktop (the guest's virtual desktop, pixels, origin top-left of the RDP framebuffer) or
// window-relative (origin at the window's frame origin). Scaling (HiDPI) slots in later as a
// conversion between these and host pixels, which this room never sees.
//
// Not base::Rect / base::Point (issue 16 left them here on purpose): they are RAIL's own shapes.
// DesktopRect keeps RDP's unsigned sizes (a hostile 0xFFFFFFFF width stays a huge value that
// window_model's max_extent refuses, instead of wrapping to a negative int32), and RelativeRect
// is the left/top/right/bottom edge form of MS-RDPERP that the window orders carry. The
// compositor's DesktopRect is base::Rect<DesktopSpace>; viewer/src/geometry.hpp converts.
#pragma once

#include <cstdint>

namespace vitrine::rdpmux::host {

struct DesktopPoint {
  std::int32_t x = 0;
  std::int32_t y = 0;
  friend bool operator==(const DesktopPoint&, const DesktopPoint&) = default;
};

// A rectangle in desktop coordinates; width/height in pixels.
struct DesktopRect {
  std::int32_t x = 0;
  std::int32_t y = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  friend bool operator==(const DesktopRect&, const DesktopRect&) = default;
};

// A rectangle relative to an origin named by its owner (window rects: the window's frame
// origin; visibility rects: the window's visible offset). MS-RDPERP 2.2.1.3.1.2.1.
struct RelativeRect {
  std::int32_t left = 0;
  std::int32_t top = 0;
  std::int32_t right = 0;   // exclusive
  std::int32_t bottom = 0;  // exclusive
  friend bool operator==(const RelativeRect&, const RelativeRect&) = default;
};

}  // namespace vitrine::rdpmux::host
