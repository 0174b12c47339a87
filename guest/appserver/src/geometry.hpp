// Rectangles and damage regions in desktop coordinates (the X screen's pixel grid, origin at
// the top-left of the root window). The RDP desktop of a session is the same grid, so one
// coordinate space serves capture and encoding; window-relative rectangles are named so.
#pragma once

#include <cstdint>
#include <vector>

#include "vitrine/base/rect.hpp"
#include "vitrine/base/region.hpp"

namespace vitrine::appserver {

// The X screen's pixel grid: the one space of the appserver (see above).
struct ScreenSpace {};

// Half-open rectangle (base's: intersect, unite, contains, overflow-free area).
using Rect = base::Rect<ScreenSpace>;

// Grows `r` so that x and width are multiples of `align` (RDP bitmap tiles want widths that
// are multiples of 4), staying inside `bounds`.
[[nodiscard]] Rect align_horizontally(const Rect& r, const Rect& bounds, int32_t align);

// Splits `r` into tiles of at most tile x tile pixels, row-major.
[[nodiscard]] std::vector<Rect> split_into_tiles(const Rect& r, int32_t tile);

// Damage accumulated between two flushes, desktop coordinates: base's pixman region
// (overlapping damage merges; rects(bounds, max) caps the rectangle count so that a
// storm of tiny updates degrades to a bounding box instead of thousands of PDUs).
using DamageRegion = base::Region<ScreenSpace>;

}  // namespace vitrine::appserver
