// Typed coordinates. Every position that crosses this room's boundary says which space it is
// in: desktop (the guest's virtual desktop, pixels, origin top-left of the RDP framebuffer) or
// window-relative (origin at the window's frame origin). Scaling (HiDPI) slots in later as a
// conversion between these and host pixels, which this room never sees.
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
