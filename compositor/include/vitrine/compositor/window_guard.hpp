// WindowGuard: what the host makes of a guest's window, so that guest UI cannot pass for host UI.
// Pure policy (no X, no GL): Compositor calls guard_window() after every change and hands the
// backend the HostFrame it returns; tests feed it monitors and windows directly.
//
// Rules (host coordinates; host == desktop today, see geometry.hpp):
//   - A popup or tooltip (override-redirect: no window manager places or frames it) is kept on
//     one monitor: the monitor of its owner when the owner is shown, else the monitor under its
//     requested top-left corner (else the one it overlaps most, else the first). It is shrunk to
//     at most the size of that monitor's work area and moved into it.
//   - A popup or tooltip without a shown owner that covers (nearly) its whole monitor is not
//     override-redirect on the host: it is an ordinary managed window (window manager, taskbar
//     entry with the labelled title) - a menu has an owner, a fake screen has none.
//   - With a label, every window gets the label's border and title prefix; a window that covers
//     (nearly) a whole monitor, or is maximized or fullscreen, gets at least
//     WindowLabel::kMinMarkerPx of border even when the label's border_px is 0.
// "Covers nearly a whole monitor": its intersection with the monitor has at least
// kCoverPercent % of the monitor's area.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "vitrine/compositor/geometry.hpp"
#include "vitrine/compositor/window.hpp"
#include "vitrine/compositor/window_label.hpp"

namespace vitrine::compositor {

struct Monitor {
  HostRect bounds;     // the monitor in host (root window) coordinates
  HostRect work_area;  // the part not taken by panels (_NET_WORKAREA clipped to it); = bounds if unknown
  friend bool operator==(const Monitor&, const Monitor&) = default;
};

inline constexpr std::int64_t kCoverPercent = 90;

// True when `r` covers at least kCoverPercent % of `m`'s area.
bool covers(const HostRect& r, const HostRect& m);

// The monitor a window belongs to (index into `monitors`, which must not be empty): the one under
// `at` if any, else the one `r` overlaps most, else 0.
std::size_t monitor_for(std::span<const Monitor> monitors, HostPoint at, const HostRect& r);

// How the host shows `window`. `owner`: its owner when it has one and the owner is shown on the
// host (else nullptr). `monitors`: empty = unknown (no placement rules; covering is not
// detected but maximized/fullscreen still forces the marker). `label`: none = no labelling
// (plain compositor use: tests, benchmarks).
HostFrame guard_window(const Window& window, const Window* owner, std::span<const Monitor> monitors,
                       const std::optional<WindowLabel>& label);

}  // namespace vitrine::compositor
