#include "vitrine/compositor/window_guard.hpp"

#include <algorithm>

namespace vitrine::compositor {
namespace {

// `r` moved (and first shrunk) to lie inside `area`; `area` must not be empty.
HostRect clamp_into(const HostRect& r, const HostRect& area) {
  HostRect out = r;
  out.width = std::min(r.width, area.width);
  out.height = std::min(r.height, area.height);
  const std::int64_t max_x = area.right() - out.width, max_y = area.bottom() - out.height;
  out.x = static_cast<std::int32_t>(std::clamp<std::int64_t>(r.x, area.x, max_x));
  out.y = static_cast<std::int32_t>(std::clamp<std::int64_t>(r.y, area.y, max_y));
  return out;
}

}  // namespace

bool covers(const HostRect& r, const HostRect& m) {
  if (m.empty()) return false;
  return r.intersect(m).area() * 100 >= m.area() * kCoverPercent;
}

std::size_t monitor_for(std::span<const Monitor> monitors, HostPoint at, const HostRect& r) {
  for (std::size_t i = 0; i < monitors.size(); ++i)
    if (monitors[i].bounds.contains(at)) return i;
  std::size_t best = 0;
  std::int64_t best_area = 0;
  for (std::size_t i = 0; i < monitors.size(); ++i) {
    const std::int64_t a = r.intersect(monitors[i].bounds).area();
    if (a > best_area) best = i, best_area = a;
  }
  return best;
}

HostFrame guard_window(const Window& window, const Window* owner, std::span<const Monitor> monitors,
                       const std::optional<WindowLabel>& label) {
  HostFrame f;
  f.rect = to_host(window.desc.rect);
  f.override_redirect = window.wants_override_redirect();
  if (!monitors.empty()) {
    // The owner's monitor is where the owner is on the host (its own frame, already guarded).
    const HostRect anchor = owner != nullptr ? owner->host.rect : f.rect;
    const HostPoint at = owner != nullptr ? HostPoint{static_cast<std::int32_t>(anchor.x + anchor.width / 2),
                                                      static_cast<std::int32_t>(anchor.y + anchor.height / 2)}
                                          : anchor.origin();
    const Monitor& m = monitors[monitor_for(monitors, at, anchor)];
    if (f.override_redirect) {
      if (owner == nullptr && covers(f.rect, m.bounds)) {
        f.override_redirect = false;  // a fake screen, not a menu: the window manager takes it
      } else {
        const HostRect area = m.work_area.empty() ? m.bounds : m.work_area;
        f.rect = clamp_into(f.rect, area);
      }
    }
    for (const Monitor& each : monitors) f.covers_monitor = f.covers_monitor || covers(f.rect, each.bounds);
  }
  if (!label) {
    f.title = window.desc.title;
    return f;
  }
  const bool big = f.covers_monitor || window.desc.state == WindowState::kMaximized ||
                   window.desc.state == WindowState::kFullscreen;
  f.border_px = std::clamp(label->border_px, 0, WindowLabel::kMaxBorderPx);
  if (big) f.border_px = std::max(f.border_px, WindowLabel::kMinMarkerPx);
  f.border_rgb = label->rgb & 0xffffffu;
  f.title = labelled_title(*label, window.desc.title);
  return f;
}

}  // namespace vitrine::compositor
