// Rectangles between rdpmux's desktop space and the compositor's: the same space (the RDP
// session's desktop, pixels, origin top left), different integer types.
#pragma once

#include <algorithm>
#include <cstdint>

#include "vitrine/compositor/compositor.hpp"
#include "vitrine/rdpmux/host/geometry.hpp"

namespace vitrine::viewer {

inline compositor::DesktopRect to_comp(const rdpmux::host::DesktopRect& r) {
  return {r.x, r.y, static_cast<std::int32_t>(std::min<std::uint32_t>(r.width, INT32_MAX)),
          static_cast<std::int32_t>(std::min<std::uint32_t>(r.height, INT32_MAX))};
}

inline rdpmux::host::DesktopRect to_rdp(const compositor::DesktopRect& r) {
  return {r.x, r.y, static_cast<std::uint32_t>(std::max(r.width, 0)), static_cast<std::uint32_t>(std::max(r.height, 0))};
}

}  // namespace vitrine::viewer
