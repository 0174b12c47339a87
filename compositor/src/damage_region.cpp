#include "vitrine/compositor/damage_region.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace vitrine::compositor {
namespace {

constexpr std::int64_t kMin = std::numeric_limits<std::int32_t>::min() / 2;
constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max() / 2;

// pixman's region32 stores x1,y1,x2,y2 as int32 and computes widths from them: keep every
// coordinate within +-2^30 so that x2 - x1 cannot overflow inside pixman.
std::int32_t clamp_coord(std::int64_t v) {
  return static_cast<std::int32_t>(std::clamp(v, kMin, kMax));
}

template <typename Space>
pixman_box32_t to_box(const Rect<Space>& r) {
  return {clamp_coord(r.x), clamp_coord(r.y), clamp_coord(std::int64_t{r.x} + r.width),
          clamp_coord(std::int64_t{r.y} + r.height)};
}

template <typename Space>
Rect<Space> to_rect(const pixman_box32_t& b) {
  return {b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1};
}

}  // namespace

template <typename Space>
Region<Space>::Region() {
  pixman_region32_init(&region_);
}

template <typename Space>
Region<Space>::Region(const RectT& rect) : Region() {
  add(rect);
}

template <typename Space>
Region<Space>::Region(const Region& other) : Region() {
  pixman_region32_copy(&region_, const_cast<pixman_region32_t*>(&other.region_));
}

template <typename Space>
Region<Space>::Region(Region&& other) noexcept : Region() {
  // pixman has no move: swap the structs (they hold a pointer to heap data or to a
  // static empty marker, both valid after a bitwise swap).
  std::swap(region_, other.region_);
}

template <typename Space>
Region<Space>& Region<Space>::operator=(const Region& other) {
  if (this != &other) pixman_region32_copy(&region_, const_cast<pixman_region32_t*>(&other.region_));
  return *this;
}

template <typename Space>
Region<Space>& Region<Space>::operator=(Region&& other) noexcept {
  std::swap(region_, other.region_);
  return *this;
}

template <typename Space>
Region<Space>::~Region() {
  pixman_region32_fini(&region_);
}

template <typename Space>
void Region<Space>::clear() {
  pixman_region32_clear(&region_);
}

template <typename Space>
void Region<Space>::add(const RectT& rect) {
  if (rect.empty()) return;
  const pixman_box32_t b = to_box(rect);
  if (b.x2 <= b.x1 || b.y2 <= b.y1) return;
  pixman_region32_union_rect(&region_, &region_, b.x1, b.y1, static_cast<unsigned>(b.x2 - b.x1),
                             static_cast<unsigned>(b.y2 - b.y1));
}

template <typename Space>
void Region<Space>::add(const Region& other) {
  pixman_region32_union(&region_, &region_, const_cast<pixman_region32_t*>(&other.region_));
}

template <typename Space>
void Region<Space>::subtract(const RectT& rect) {
  subtract(Region(rect));
}

template <typename Space>
void Region<Space>::subtract(const Region& other) {
  pixman_region32_subtract(&region_, &region_, const_cast<pixman_region32_t*>(&other.region_));
}

template <typename Space>
void Region<Space>::intersect(const RectT& rect) {
  if (rect.empty()) {
    clear();
    return;
  }
  const pixman_box32_t b = to_box(rect);
  pixman_region32_intersect_rect(&region_, &region_, b.x1, b.y1, static_cast<unsigned>(b.x2 - b.x1),
                                 static_cast<unsigned>(b.y2 - b.y1));
}

template <typename Space>
void Region<Space>::intersect(const Region& other) {
  pixman_region32_intersect(&region_, &region_, const_cast<pixman_region32_t*>(&other.region_));
}

template <typename Space>
void Region<Space>::translate(std::int32_t dx, std::int32_t dy) {
  if (empty()) return;
  // Clip first so that translated coordinates stay inside the clamp range.
  const auto e = extents();
  const std::int64_t nx0 = std::int64_t{e.x} + dx, ny0 = std::int64_t{e.y} + dy;
  const std::int64_t nx1 = nx0 + e.width, ny1 = ny0 + e.height;
  if (nx0 < kMin || ny0 < kMin || nx1 > kMax || ny1 > kMax) {
    const std::int64_t cx0 = std::max<std::int64_t>(nx0, kMin) - dx;
    const std::int64_t cy0 = std::max<std::int64_t>(ny0, kMin) - dy;
    const std::int64_t cx1 = std::min<std::int64_t>(nx1, kMax) - dx;
    const std::int64_t cy1 = std::min<std::int64_t>(ny1, kMax) - dy;
    if (cx1 <= cx0 || cy1 <= cy0) {
      clear();
      return;
    }
    pixman_region32_intersect_rect(&region_, &region_, static_cast<std::int32_t>(cx0),
                                   static_cast<std::int32_t>(cy0), static_cast<unsigned>(cx1 - cx0),
                                   static_cast<unsigned>(cy1 - cy0));
  }
  pixman_region32_translate(&region_, dx, dy);
}

template <typename Space>
bool Region<Space>::empty() const {
  return !pixman_region32_not_empty(const_cast<pixman_region32_t*>(&region_));
}

template <typename Space>
bool Region<Space>::intersects(const RectT& rect) const {
  if (rect.empty()) return false;
  pixman_box32_t b = to_box(rect);
  return pixman_region32_contains_rectangle(const_cast<pixman_region32_t*>(&region_), &b) !=
         PIXMAN_REGION_OUT;
}

template <typename Space>
bool Region<Space>::contains(Point<Space> p) const {
  return pixman_region32_contains_point(const_cast<pixman_region32_t*>(&region_), p.x, p.y, nullptr);
}

template <typename Space>
typename Region<Space>::RectT Region<Space>::extents() const {
  if (empty()) return {};
  return to_rect<Space>(*pixman_region32_extents(const_cast<pixman_region32_t*>(&region_)));
}

template <typename Space>
std::size_t Region<Space>::rect_count() const {
  return static_cast<std::size_t>(pixman_region32_n_rects(const_cast<pixman_region32_t*>(&region_)));
}

template <typename Space>
std::int64_t Region<Space>::area() const {
  std::int64_t sum = 0;
  for (const auto& b : boxes()) sum += std::int64_t{b.x2 - b.x1} * (b.y2 - b.y1);
  return sum;
}

template <typename Space>
std::span<const pixman_box32_t> Region<Space>::boxes() const {
  int n = 0;
  const pixman_box32_t* b = pixman_region32_rectangles(const_cast<pixman_region32_t*>(&region_), &n);
  return {b, static_cast<std::size_t>(n)};
}

template <typename Space>
std::vector<typename Region<Space>::RectT> Region<Space>::rects() const {
  std::vector<RectT> out;
  out.reserve(rect_count());
  for (const auto& b : boxes()) out.push_back(to_rect<Space>(b));
  return out;
}

template <typename Space>
bool Region<Space>::cap_rects(std::size_t max_rects) {
  if (rect_count() <= max_rects) return false;
  const pixman_box32_t e = *pixman_region32_extents(&region_);
  pixman_region32_fini(&region_);
  pixman_region32_init_rect(&region_, e.x1, e.y1, static_cast<unsigned>(e.x2 - e.x1),
                            static_cast<unsigned>(e.y2 - e.y1));
  return true;
}

template class Region<DesktopSpace>;
template class Region<WindowSpace>;

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
