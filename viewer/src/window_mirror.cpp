#include "window_mirror.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "focus_policy.hpp"
#include "geometry.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/compositor/x11_backend.hpp"

namespace vitrine::viewer {

namespace rh = rdpmux::host;
namespace comp = compositor;

namespace {

// docs/compositor.md "Adapting rdpmux": popups without a caption are menus/lists, tool windows
// without one are tooltips; tool windows with a caption are utility windows.
comp::WindowKind kind_of(const rh::WindowState& s) {
  const bool caption = (s.style & rh::style::kCaption) == rh::style::kCaption;
  if (s.popup() && !caption) return s.tool_window() ? comp::WindowKind::kTooltip : comp::WindowKind::kPopup;
  if (s.tool_window()) return caption ? comp::WindowKind::kTool : comp::WindowKind::kTooltip;
  return comp::WindowKind::kNormal;
}

comp::WindowState state_of(rh::ShowState show) {
  switch (show) {
    case rh::ShowState::kMinimized: return comp::WindowState::kMinimized;
    case rh::ShowState::kMaximized: return comp::WindowState::kMaximized;
    default: return comp::WindowState::kNormal;
  }
}

comp::WindowRegion region_of(const rh::WindowState& s) {
  comp::WindowRegion region;
  for (const auto& r : s.window_rects) {
    if (r.right > r.left && r.bottom > r.top) region.add(comp::WindowRect{r.left, r.top, r.right - r.left, r.bottom - r.top});
  }
  if (region.empty())
    region.add(comp::WindowRect{0, 0, static_cast<std::int32_t>(s.frame.width), static_cast<std::int32_t>(s.frame.height)});
  return region;
}

comp::Icon icon_of(const rh::Icon& icon) {
  comp::Icon out;
  const std::size_t n = static_cast<std::size_t>(icon.width) * icon.height;
  if (icon.width == 0 || icon.height == 0 || icon.bgra.size() < n * 4) return out;
  out.width = static_cast<std::int32_t>(icon.width);
  out.height = static_cast<std::int32_t>(icon.height);
  out.argb.resize(n);
  // Straight BGRA bytes read as a little-endian uint32 are 0xAARRGGBB, _NET_WM_ICON's layout.
  std::memcpy(out.argb.data(), icon.bgra.data(), n * 4);
  return out;
}

}  // namespace

WindowMirror::WindowMirror(comp::Compositor& compositor, comp::X11Backend* x11, std::uint64_t max_window_pixels,
                           FocusPolicy& focus)
    : compositor_(compositor), x11_(x11), focus_(focus) {
  if (x11_ != nullptr) host_desktop_pixels_ = static_cast<std::uint64_t>(x11_->screen().area());
  if (max_window_pixels != 0) compositor_.set_window_pixel_budget(max_window_pixels);
  else set_auto_budget(RemoteDisplayOptions::kFallbackDesktopPixels);
}

// The default budget follows the larger desktop: windows as big as the guest's desktop must fit
// even on a smaller host screen, and a headless session has only the guest's.
void WindowMirror::set_auto_budget(std::uint64_t session_pixels) {
  compositor_.set_window_pixel_budget(RemoteDisplayOptions::kDefaultBudgetDesktops *
                                      std::max(session_pixels, host_desktop_pixels_));
}

void WindowMirror::desktop_changed(const rh::FramebufferView& fb) {
  const bool waited = waiting_for_budget();
  set_auto_budget(fb.pixels != nullptr ? static_cast<std::uint64_t>(fb.width) * fb.height
                                       : RemoteDisplayOptions::kFallbackDesktopPixels);
  if (waited) refresh_budget_flags();
}

bool WindowMirror::RefusalLog::take(rh::WindowId id, Kind kind, std::uint64_t& unlogged) {
  if (logged_.contains({id, kind})) return false;  // said once for this window already
  const auto now = std::chrono::steady_clock::now();
  if (now - second_ >= std::chrono::seconds(1)) {
    second_ = now;
    lines_ = 0;
  }
  if (lines_ >= kLinesPerSecond) {
    ++unlogged_;  // not marked: a later refusal of this window may still get its line
    return false;
  }
  ++lines_;
  logged_.insert({id, kind});
  unlogged = std::exchange(unlogged_, 0);
  return true;
}

void WindowMirror::RefusalLog::forget(rh::WindowId id) {
  logged_.erase({id, Kind::kRequest});
  logged_.erase({id, Kind::kBudget});
  logged_.erase({id, Kind::kFocus});
}

bool WindowMirror::apply(const rh::WindowState& s, std::uint32_t what, bool created) {
  auto refused = [&](const char* what_failed, const comp::Error& error) {
    std::uint64_t unlogged = 0;
    if (refusal_log_.take(s.id, RefusalLog::Kind::kRequest, unlogged))
      base::log_warn("display: window {} ({}): {}: {}{}", s.id, s.title, what_failed, comp::to_string(error),
                     unlogged == 0 ? std::string() : fmt::format(" ({} more refusals not logged)", unlogged));
    std::lock_guard lock(mutex_);
    ++refused_;
  };
  const bool visible = s.show != rh::ShowState::kHidden && s.frame.width > 0 && s.frame.height > 0;
  if (created || compositor_.scene().find(s.id) == nullptr) {
    comp::WindowDesc desc;
    desc.rect = to_comp(s.frame);
    desc.kind = kind_of(s);
    desc.title = s.title;
    desc.owner = s.owner;
    desc.state = state_of(s.show);
    desc.visible = visible;
    desc.focus_on_map = focus_.may_focus(base::monotonic_ns(), false);
    if (desc.rect.empty()) desc.rect.width = desc.rect.height = 1;  // the compositor needs a size
    if (auto r = compositor_.create_window(s.id, desc); !r) {
      refused("create", r.error());
      return false;
    }
    what = ~0u;
  } else {
    using namespace rh::changed;
    if ((what & (kFramePosition | kFrameSize)) != 0 && s.frame.width > 0 && s.frame.height > 0)
      if (auto r = compositor_.set_rect(s.id, to_comp(s.frame)); !r) refused("move/resize", r.error());
    if ((what & kTitle) != 0)
      if (auto r = compositor_.set_title(s.id, s.title); !r) refused("title", r.error());
    if ((what & kOwner) != 0)
      if (auto r = compositor_.set_owner(s.id, s.owner); !r) refused("owner", r.error());
    if ((what & kShow) != 0) {
      if (auto r = compositor_.set_visible(s.id, visible); !r) refused("visibility", r.error());
      if (visible)
        if (auto r = compositor_.set_state(s.id, state_of(s.show)); !r) refused("state", r.error());
    }
  }
  if ((what & (rh::changed::kWindowRects | rh::changed::kFrameSize)) != 0)
    if (auto r = compositor_.set_visible_region(s.id, region_of(s)); !r) refused("shape", r.error());
  if ((what & rh::changed::kIcon) != 0) {
    const auto& icon = s.big_icon ? s.big_icon : s.small_icon;
    if (icon)
      if (auto r = compositor_.set_icon(s.id, icon_of(*icon)); !r) refused("icon", r.error());
  }
  const bool over_budget = compositor_.over_budget(s.id);
  if (over_budget) {
    std::uint64_t unlogged = 0;
    if (refusal_log_.take(s.id, RefusalLog::Kind::kBudget, unlogged)) {
      const bool parked = compositor_.parked(s.id);
      base::log_warn(
          "display: window {} ({}) {}x{}: over the window pixel budget ({} of {} pixels in use); {} until "
          "other windows close or shrink{}",
          s.id, s.title, s.frame.width, s.frame.height, compositor_.window_pixels(),
          compositor_.window_pixel_budget(), parked ? "not shown" : "kept at its old size",
          unlogged == 0 ? std::string() : fmt::format(" ({} more refusals not logged)", unlogged));
    }
  }
  DisplayedWindow shown{s.id, s.title, s.frame, visible && s.show != rh::ShowState::kMinimized, 0, over_budget};
  if (x11_ != nullptr) shown.x11_window = x11_->native_window(s.id);
  std::lock_guard lock(mutex_);
  shown_[s.id] = std::move(shown);
  return true;
}

void WindowMirror::remove(rh::WindowId id) {
  (void)compositor_.destroy_window(id);
  refusal_log_.forget(id);
  std::lock_guard lock(mutex_);
  shown_.erase(id);
}

void WindowMirror::z_order(std::span<const rh::WindowId> top_to_bottom) {
  std::vector<comp::WindowId> ids(top_to_bottom.begin(), top_to_bottom.end());
  std::erase_if(ids, [&](comp::WindowId id) { return compositor_.scene().find(id) == nullptr; });
  compositor_.set_z_order(ids);
}

void WindowMirror::activate(rh::WindowId id) {
  if (id == rh::kNoWindow || compositor_.scene().find(id) == nullptr) return;
  if (focus_.may_focus(base::monotonic_ns(), true)) {
    (void)compositor_.activate(id);
    return;
  }
  (void)compositor_.demand_attention(id);
  std::uint64_t unlogged = 0;
  if (refusal_log_.take(id, RefusalLog::Kind::kFocus, unlogged))
    base::log_info("display: window {} asked for focus without host input; it asks for attention instead{}", id,
                   unlogged == 0 ? std::string() : fmt::format(" ({} more refusals not logged)", unlogged));
}

void WindowMirror::refresh_budget_flags() {
  std::lock_guard lock(mutex_);
  for (auto& [id, w] : shown_) {
    w.over_budget = compositor_.over_budget(id);
    if (x11_ != nullptr) w.x11_window = x11_->native_window(id);
  }
}

std::vector<DisplayedWindow> WindowMirror::windows() const {
  std::lock_guard lock(mutex_);
  std::vector<DisplayedWindow> out;
  out.reserve(shown_.size());
  for (const auto& [id, w] : shown_) out.push_back(w);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::vector<rh::WindowId> WindowMirror::window_ids() const {
  std::lock_guard lock(mutex_);
  std::vector<rh::WindowId> out;
  out.reserve(shown_.size());
  for (const auto& [id, w] : shown_) out.push_back(id);
  return out;
}

std::uint64_t WindowMirror::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace vitrine::viewer
