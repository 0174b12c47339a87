#include "vitrine/rdpmux/host/window_model.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

namespace vitrine::rdpmux::host {
namespace {

std::string id_str(WindowId id) { return "window " + std::to_string(id); }

bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    if (c < 0x80) extra = 0;
    else if ((c >> 5) == 0x6) extra = 1;
    else if ((c >> 4) == 0xE) extra = 2;
    else if ((c >> 3) == 0x1E) extra = 3;
    else return false;
    if (extra > s.size() - i - 1) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += extra + 1;
  }
  return true;
}

bool valid_show(std::uint32_t show) {
  return show == 0 || show == 2 || show == 3 || show == 5;
}

}  // namespace

WindowModel::WindowModel(WindowEvents& events, WindowModelLimits limits)
    : events_(events),
      limits_(limits),
      icon_cache_(std::size_t{limits.icon_caches} * limits.icon_cache_entries) {}

const WindowState* WindowModel::find(WindowId id) const {
  auto it = windows_.find(id);
  return it == windows_.end() ? nullptr : &it->second;
}

Result<void> WindowModel::validate(const WindowOrder& o) const {
  const auto coord_ok = [&](DesktopPoint p) {
    return std::abs(static_cast<std::int64_t>(p.x)) <= limits_.max_coordinate &&
           std::abs(static_cast<std::int64_t>(p.y)) <= limits_.max_coordinate;
  };
  if (o.id == kNoWindow) return fail(Errc::kProtocol, "window order for window id 0");
  if ((o.fields & WindowOrder::kOwner) && o.owner == o.id)
    return fail(Errc::kProtocol, id_str(o.id) + " names itself as its owner");
  if ((o.fields & WindowOrder::kShow) && !valid_show(o.show))
    return fail(Errc::kProtocol, id_str(o.id) + ": show state " + std::to_string(o.show) +
                                     " is not one of 0, 2, 3, 5 (MS-RDPERP 2.2.1.3.1.2.1)");
  if (o.fields & WindowOrder::kTitle) {
    if (o.title.size() > limits_.max_title_bytes)
      return fail(Errc::kLimit, id_str(o.id) + ": title of " + std::to_string(o.title.size()) +
                                    " bytes exceeds the limit of " +
                                    std::to_string(limits_.max_title_bytes));
    if (!valid_utf8(o.title)) return fail(Errc::kProtocol, id_str(o.id) + ": title is not valid text");
  }
  if ((o.fields & WindowOrder::kClientSize) &&
      (o.client_width > limits_.max_extent || o.client_height > limits_.max_extent))
    return fail(Errc::kLimit, id_str(o.id) + ": client area " + std::to_string(o.client_width) + "x" +
                                  std::to_string(o.client_height) + " exceeds " +
                                  std::to_string(limits_.max_extent) + " pixels");
  if ((o.fields & WindowOrder::kWindowSize) &&
      (o.window_width > limits_.max_extent || o.window_height > limits_.max_extent))
    return fail(Errc::kLimit, id_str(o.id) + ": window size " + std::to_string(o.window_width) + "x" +
                                  std::to_string(o.window_height) + " exceeds " +
                                  std::to_string(limits_.max_extent) + " pixels");
  if (((o.fields & WindowOrder::kClientOffset) && !coord_ok(o.client_offset)) ||
      ((o.fields & WindowOrder::kWindowOffset) && !coord_ok(o.window_offset)) ||
      ((o.fields & WindowOrder::kVisibleOffset) && !coord_ok(o.visible_offset)))
    return fail(Errc::kLimit, id_str(o.id) + ": a position lies beyond +-" +
                                  std::to_string(limits_.max_coordinate) + " pixels");
  const auto rects_ok = [&](const std::vector<RelativeRect>& rects, const char* what) -> Result<void> {
    if (rects.size() > limits_.max_rects)
      return fail(Errc::kLimit, id_str(o.id) + ": " + std::to_string(rects.size()) + " " + what +
                                    " exceed the limit of " + std::to_string(limits_.max_rects));
    for (const auto& r : rects) {
      if (r.right < r.left || r.bottom < r.top)
        return fail(Errc::kProtocol, id_str(o.id) + ": inverted " + what + " (" +
                                         std::to_string(r.left) + "," + std::to_string(r.top) + ")-(" +
                                         std::to_string(r.right) + "," + std::to_string(r.bottom) + ")");
    }
    return {};
  };
  if (o.fields & WindowOrder::kWindowRects) {
    if (auto r = rects_ok(o.window_rects, "window rects"); !r) return r;
  }
  if (o.fields & WindowOrder::kVisibility) {
    if (auto r = rects_ok(o.visibility_rects, "visibility rects"); !r) return r;
  }
  return {};
}

std::uint32_t WindowModel::apply(WindowState& s, const WindowOrder& o) const {
  std::uint32_t what = 0;
  const auto set = [&](auto& field, const auto& value, std::uint32_t bit) {
    if (!(field == value)) {
      field = value;
      what |= bit;
    }
  };
  if (o.fields & WindowOrder::kOwner) set(s.owner, o.owner, changed::kOwner);
  if (o.fields & WindowOrder::kStyle) {
    set(s.style, o.style, changed::kStyle);
    set(s.ex_style, o.ex_style, changed::kStyle);
  }
  if (o.fields & WindowOrder::kShow) set(s.show, static_cast<ShowState>(o.show), changed::kShow);
  if (o.fields & WindowOrder::kTitle) set(s.title, o.title, changed::kTitle);
  if (o.fields & WindowOrder::kClientOffset) set(s.client_offset, o.client_offset, changed::kClientArea);
  if (o.fields & WindowOrder::kClientSize) {
    set(s.client_width, o.client_width, changed::kClientArea);
    set(s.client_height, o.client_height, changed::kClientArea);
  }
  if (o.fields & WindowOrder::kWindowOffset) {
    set(s.frame.x, o.window_offset.x, changed::kFramePosition);
    set(s.frame.y, o.window_offset.y, changed::kFramePosition);
  }
  if (o.fields & WindowOrder::kWindowSize) {
    set(s.frame.width, o.window_width, changed::kFrameSize);
    set(s.frame.height, o.window_height, changed::kFrameSize);
  }
  if (o.fields & WindowOrder::kWindowRects) set(s.window_rects, o.window_rects, changed::kWindowRects);
  if (o.fields & WindowOrder::kVisibleOffset) set(s.visible_offset, o.visible_offset, changed::kVisibility);
  if (o.fields & WindowOrder::kVisibility) set(s.visibility_rects, o.visibility_rects, changed::kVisibility);
  return what;
}

Result<void> WindowModel::create(const WindowOrder& order) {
  if (auto r = validate(order); !r) return r;
  auto it = windows_.find(order.id);
  if (it != windows_.end()) {
    // MS-RDPERP 3.2.5.1.4: a "new" order for a known window is handled as an update
    // (Windows servers re-announce windows after a reconnect).
    const auto what = apply(it->second, order);
    if (what) events_.window_changed(it->second, what);
    return {};
  }
  if (windows_.size() >= limits_.max_windows)
    return fail(Errc::kLimit, "the server created more than " + std::to_string(limits_.max_windows) +
                                  " windows (limit); refusing " + id_str(order.id));
  WindowState state;
  state.id = order.id;
  apply(state, order);
  auto [pos, inserted] = windows_.emplace(order.id, std::move(state));
  // New windows open on top until MonitoredDesktop says otherwise (push + rotate: GCC 12's
  // -Wnull-dereference misfires on vector::insert at begin()).
  z_order_.push_back(order.id);
  std::rotate(z_order_.begin(), z_order_.end() - 1, z_order_.end());
  events_.window_created(pos->second);
  return {};
}

Result<void> WindowModel::update(const WindowOrder& order) {
  if (auto r = validate(order); !r) return r;
  auto it = windows_.find(order.id);
  if (it == windows_.end())
    return fail(Errc::kProtocol, "update for unknown " + id_str(order.id));
  const auto what = apply(it->second, order);
  if (what) events_.window_changed(it->second, what);
  return {};
}

Result<void> WindowModel::remove(WindowId id) {
  if (windows_.erase(id) == 0) return fail(Errc::kProtocol, "delete for unknown " + id_str(id));
  std::erase(z_order_, id);
  for (auto it = notify_icons_.begin(); it != notify_icons_.end();) {
    it = it->first.first == id ? notify_icons_.erase(it) : std::next(it);
  }
  if (active_ == id) active_ = kNoWindow;
  events_.window_deleted(id);
  return {};
}

Result<void> WindowModel::validate_icon(const Icon& icon) const {
  if (icon.width == 0 || icon.height == 0 || icon.width > limits_.max_icon_extent ||
      icon.height > limits_.max_icon_extent)
    return fail(Errc::kLimit, "icon of " + std::to_string(icon.width) + "x" + std::to_string(icon.height) +
                                  " pixels (allowed 1.." + std::to_string(limits_.max_icon_extent) + ")");
  if (icon.bgra.size() != std::size_t{icon.width} * icon.height * 4)
    return fail(Errc::kProtocol, "icon pixel buffer does not match its size");
  return {};
}

Result<void> WindowModel::set_icon(WindowId id, bool big, Icon icon, IconCacheSlot slot) {
  auto it = windows_.find(id);
  if (it == windows_.end()) return fail(Errc::kProtocol, "icon for unknown " + id_str(id));
  if (auto r = validate_icon(icon); !r) return r;
  std::size_t cache_index = SIZE_MAX;
  if (slot.cache_id != kNoIconCache) {
    if (slot.cache_id >= limits_.icon_caches || slot.cache_entry >= limits_.icon_cache_entries)
      return fail(Errc::kProtocol, "icon cache slot " + std::to_string(slot.cache_id) + "/" +
                                       std::to_string(slot.cache_entry) + " outside the announced " +
                                       std::to_string(limits_.icon_caches) + "x" +
                                       std::to_string(limits_.icon_cache_entries));
    cache_index = std::size_t{slot.cache_id} * limits_.icon_cache_entries + slot.cache_entry;
  }
  auto shared = std::make_shared<const Icon>(std::move(icon));
  if (cache_index != SIZE_MAX) icon_cache_[cache_index] = shared;
  (big ? it->second.big_icon : it->second.small_icon) = std::move(shared);
  events_.window_changed(it->second, changed::kIcon);
  return {};
}

Result<void> WindowModel::set_cached_icon(WindowId id, bool big, IconCacheSlot slot) {
  auto it = windows_.find(id);
  if (it == windows_.end()) return fail(Errc::kProtocol, "cached icon for unknown " + id_str(id));
  if (slot.cache_id >= limits_.icon_caches || slot.cache_entry >= limits_.icon_cache_entries)
    return fail(Errc::kProtocol, "cached icon slot " + std::to_string(slot.cache_id) + "/" +
                                     std::to_string(slot.cache_entry) + " outside the icon cache");
  const auto& cached = icon_cache_[std::size_t{slot.cache_id} * limits_.icon_cache_entries + slot.cache_entry];
  if (!cached)
    return fail(Errc::kProtocol, "cached icon slot " + std::to_string(slot.cache_id) + "/" +
                                     std::to_string(slot.cache_entry) + " was never filled");
  (big ? it->second.big_icon : it->second.small_icon) = cached;
  events_.window_changed(it->second, changed::kIcon);
  return {};
}

Result<void> WindowModel::monitored_desktop(std::optional<WindowId> active,
                                            std::optional<std::span<const WindowId>> z_order) {
  if (z_order) {
    if (z_order->size() > limits_.max_windows)
      return fail(Errc::kLimit, "desktop z-order lists " + std::to_string(z_order->size()) +
                                    " windows (limit " + std::to_string(limits_.max_windows) + ")");
    // Keep only known windows, each once; windows the server omitted keep their relative
    // order below the listed ones.
    std::vector<WindowId> next;
    std::set<WindowId> seen;
    for (WindowId id : *z_order) {
      if (windows_.contains(id) && seen.insert(id).second) next.push_back(id);
    }
    for (WindowId id : z_order_) {
      if (!seen.contains(id)) next.push_back(id);
    }
    if (next != z_order_) {
      z_order_ = std::move(next);
      events_.z_order_changed(z_order_);
    }
  }
  if (active) {
    // 0xFFFFFFFF: no window of this session is active (MS-RDPERP 2.2.1.3.3.2.1).
    const WindowId id = (*active == 0xFFFFFFFFu || !windows_.contains(*active)) ? kNoWindow : *active;
    if (id != active_) {
      active_ = id;
      events_.active_window_changed(id);
    }
  }
  return {};
}

void WindowModel::clear() {
  while (!windows_.empty()) {
    const WindowId id = windows_.begin()->first;
    windows_.erase(windows_.begin());
    events_.window_deleted(id);
  }
  notify_icons_.clear();
  z_order_.clear();
  if (active_ != kNoWindow) {
    active_ = kNoWindow;
    events_.active_window_changed(kNoWindow);
  }
}

Result<void> WindowModel::notify_icon(const NotifyIconOrder& order, bool create) {
  if (order.has_tooltip && (order.tooltip.size() > limits_.max_title_bytes || !valid_utf8(order.tooltip)))
    return fail(Errc::kProtocol, "notify icon tooltip is too long or not valid text");
  if (order.icon) {
    if (auto r = validate_icon(*order.icon); !r) return r;
  }
  const auto key = std::make_pair(order.window, order.icon_id);
  auto it = notify_icons_.find(key);
  if (it == notify_icons_.end()) {
    if (!create)
      return fail(Errc::kProtocol, "notify icon update for unknown icon " + std::to_string(order.icon_id) +
                                       " of " + id_str(order.window));
    if (notify_icons_.size() >= limits_.max_notify_icons)
      return fail(Errc::kLimit, "more than " + std::to_string(limits_.max_notify_icons) + " notify icons");
    it = notify_icons_.emplace(key, NotifyIconState{order.window, order.icon_id, {}, 0, nullptr}).first;
  }
  if (order.has_tooltip) it->second.tooltip = order.tooltip;
  if (order.has_state) it->second.state = order.state;
  if (order.icon) it->second.icon = order.icon;
  events_.notify_icon_changed(it->second);
  return {};
}

Result<void> WindowModel::notify_icon_delete(WindowId window, std::uint32_t icon_id) {
  if (notify_icons_.erase({window, icon_id}) == 0)
    return fail(Errc::kProtocol, "delete for unknown notify icon " + std::to_string(icon_id));
  events_.notify_icon_deleted(window, icon_id);
  return {};
}

}  // namespace vitrine::rdpmux::host
