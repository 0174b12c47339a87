// WindowModel: the guest's RemoteApp windows as the RAIL window orders describe them
// (MS-RDPERP 2.2.1.3: Window, Notification Icon and Desktop orders), validated against limits
// and published as typed events to a WindowEvents consumer.
//
// Input is a neutral WindowOrder (rail_orders.cpp translates FreeRDP's structures), so the model
// is tested and fuzzed without FreeRDP. Every order is checked before anything changes: a bad
// order returns an Error and leaves the model as it was. The caller (RdpClient) closes the
// connection on any error: a server that breaks the protocol or the limits is not trusted again.
//
// Threading: one thread (the session thread) calls everything; events fire synchronously.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vitrine/rdpmux/host/error.hpp"
#include "vitrine/rdpmux/host/window_events.hpp"

namespace vitrine::rdpmux::host {

struct WindowModelLimits {
  std::uint32_t max_windows = 4096;
  std::uint32_t max_extent = 16384;        // window / client width and height, pixels
  std::int32_t max_coordinate = 65535;     // |x|, |y| of any desktop position
  std::uint32_t max_rects = 1024;          // window rects and visibility rects per window
  std::uint32_t max_title_bytes = 4096;    // UTF-8
  std::uint32_t max_icon_extent = 256;     // icon width and height
  std::uint32_t max_notify_icons = 256;
  // Icon cache geometry the client announced (FreeRDP's defaults: 3 caches x 12 entries).
  std::uint32_t icon_caches = 3;
  std::uint32_t icon_cache_entries = 12;
};

// One window order (create or update), neutral form. `fields` holds WindowOrder::k* bits; only
// the members named by a set bit are meaningful.
struct WindowOrder {
  static constexpr std::uint32_t kOwner = 1u << 0;
  static constexpr std::uint32_t kStyle = 1u << 1;
  static constexpr std::uint32_t kShow = 1u << 2;
  static constexpr std::uint32_t kTitle = 1u << 3;
  static constexpr std::uint32_t kClientOffset = 1u << 4;
  static constexpr std::uint32_t kClientSize = 1u << 5;
  static constexpr std::uint32_t kWindowOffset = 1u << 6;
  static constexpr std::uint32_t kWindowSize = 1u << 7;
  static constexpr std::uint32_t kWindowRects = 1u << 8;
  static constexpr std::uint32_t kVisibleOffset = 1u << 9;
  static constexpr std::uint32_t kVisibility = 1u << 10;

  WindowId id = kNoWindow;
  std::uint32_t fields = 0;
  WindowId owner = kNoWindow;
  std::uint32_t style = 0;
  std::uint32_t ex_style = 0;
  std::uint32_t show = 0;        // raw ShowState value, validated by the model
  std::string title;             // UTF-8 (validated)
  DesktopPoint client_offset;
  std::uint32_t client_width = 0;
  std::uint32_t client_height = 0;
  DesktopPoint window_offset;
  std::uint32_t window_width = 0;
  std::uint32_t window_height = 0;
  std::vector<RelativeRect> window_rects;
  DesktopPoint visible_offset;
  std::vector<RelativeRect> visibility_rects;
};

// Where an icon order stores its icon in the client's icon cache (MS-RDPERP 2.2.1.2.3).
struct IconCacheSlot {
  std::uint32_t cache_id = 0;
  std::uint32_t cache_entry = 0;
};
inline constexpr std::uint32_t kNoIconCache = 0xFFu;  // cacheId 0xFF: do not cache

struct NotifyIconOrder {
  WindowId window = kNoWindow;
  std::uint32_t icon_id = 0;
  bool has_tooltip = false;
  std::string tooltip;
  bool has_state = false;
  std::uint32_t state = 0;
  std::shared_ptr<const Icon> icon;  // null: unchanged
};

class WindowModel {
 public:
  WindowModel(WindowEvents& events, WindowModelLimits limits = {});

  Result<void> create(const WindowOrder& order);
  Result<void> update(const WindowOrder& order);
  Result<void> remove(WindowId id);
  // A new icon for a window (big: ICON_BIG); stored in the cache when `slot.cache_id` is not
  // kNoIconCache.
  Result<void> set_icon(WindowId id, bool big, Icon icon, IconCacheSlot slot);
  // An icon from the cache (WINDOW_ORDER_CACHED_ICON).
  Result<void> set_cached_icon(WindowId id, bool big, IconCacheSlot slot);
  // MonitoredDesktop: `active` when has_active; `z_order` (topmost first) when given.
  Result<void> monitored_desktop(std::optional<WindowId> active,
                                 std::optional<std::span<const WindowId>> z_order);
  // NonMonitoredDesktop: the server stopped monitoring; every window goes away.
  void clear();
  Result<void> notify_icon(const NotifyIconOrder& order, bool create);
  Result<void> notify_icon_delete(WindowId window, std::uint32_t icon_id);

  // Read access for the session thread (and tests).
  const WindowState* find(WindowId id) const;
  std::size_t size() const { return windows_.size(); }
  WindowId active() const { return active_; }
  const std::vector<WindowId>& z_order() const { return z_order_; }
  const WindowModelLimits& limits() const { return limits_; }

 private:
  Result<void> validate(const WindowOrder& order) const;
  Result<void> validate_icon(const Icon& icon) const;
  std::uint32_t apply(WindowState& state, const WindowOrder& order) const;

  WindowEvents& events_;
  WindowModelLimits limits_;
  std::map<WindowId, WindowState> windows_;
  std::vector<std::shared_ptr<const Icon>> icon_cache_;  // icon_caches * icon_cache_entries
  std::map<std::pair<WindowId, std::uint32_t>, NotifyIconState> notify_icons_;
  std::vector<WindowId> z_order_;
  WindowId active_ = kNoWindow;
};

}  // namespace vitrine::rdpmux::host
