#include "window_orders.hpp"

#include <freerdp/window.h>

#include <algorithm>

namespace vitrine::appserver::rdp {
namespace {

constexpr size_t kMaxTitleUnits = 520;  // titles longer than this are not shown in full anywhere

uint32_t show_state(const WindowInfo& info) {
  if (info.minimized) return WINDOW_SHOW_MINIMIZED;
  if (info.maximized) return WINDOW_SHOW_MAXIMIZED;
  return WINDOW_SHOW;
}

// One code point from UTF-8, advancing i; U+FFFD on malformed input.
char32_t next_code_point(const std::string& s, size_t& i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xfffd;
  }
  char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) {
      ++i;
      return 0xfffd;
    }
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  i += len;
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0xfffd;
  return cp;
}

}  // namespace

std::vector<uint8_t> utf8_to_utf16le(const std::string& s, size_t max_units) {
  std::vector<uint8_t> out;
  size_t units = 0;
  const auto put = [&](uint16_t u) {
    out.push_back(static_cast<uint8_t>(u & 0xff));
    out.push_back(static_cast<uint8_t>(u >> 8));
    ++units;
  };
  for (size_t i = 0; i < s.size();) {
    const char32_t cp = next_code_point(s, i);
    if (cp >= 0x10000) {
      if (units + 2 > max_units) break;
      const char32_t v = cp - 0x10000;
      put(static_cast<uint16_t>(0xd800 + (v >> 10)));
      put(static_cast<uint16_t>(0xdc00 + (v & 0x3ff)));
    } else {
      if (units + 1 > max_units) break;
      put(static_cast<uint16_t>(cp));
    }
  }
  return out;
}

WindowStyle style_for(const WindowInfo& info) {
  switch (info.kind) {
    case WindowKind::kPopup:
      // Menus, tooltips: the client makes WS_EX_TOOLWINDOW windows override-redirect.
      return {WS_POPUP | WS_VISIBLE, WS_EX_TOOLWINDOW | WS_EX_TOPMOST | WS_EX_NOACTIVATE};
    case WindowKind::kDialog:
      return {WS_POPUP | WS_CAPTION | WS_SYSMENU | WS_VISIBLE, WS_EX_DLGMODALFRAME};
    case WindowKind::kUtility:
      return {WS_OVERLAPPED | WS_CAPTION | WS_SYSMENU | WS_VISIBLE, WS_EX_TOOLWINDOW};
    case WindowKind::kNormal:
      break;
  }
  return {WS_OVERLAPPEDWINDOW | WS_VISIBLE | (info.maximized ? WS_MAXIMIZE : 0u) |
              (info.minimized ? WS_MINIMIZE : 0u),
          WS_EX_APPWINDOW};
}

bool WindowOrderSender::send_window(rdpContext* context, const WindowInfo& info, Sent* previous) {
  Sent now;
  now.frame = info.frame;
  now.title = info.title;
  now.owner = info.owner;
  now.style = style_for(info);
  now.show = show_state(info);

  WINDOW_ORDER_INFO order{};
  order.windowId = static_cast<UINT32>(info.id);
  order.fieldFlags = WINDOW_ORDER_TYPE_WINDOW;
  if (!previous) {
    order.fieldFlags |= WINDOW_ORDER_STATE_NEW | WINDOW_ORDER_FIELD_OWNER | WINDOW_ORDER_FIELD_STYLE |
                        WINDOW_ORDER_FIELD_SHOW | WINDOW_ORDER_FIELD_TITLE;
  } else {
    if (previous->owner != now.owner) order.fieldFlags |= WINDOW_ORDER_FIELD_OWNER;
    if (previous->style.style != now.style.style || previous->style.ex_style != now.style.ex_style)
      order.fieldFlags |= WINDOW_ORDER_FIELD_STYLE;
    if (previous->show != now.show) order.fieldFlags |= WINDOW_ORDER_FIELD_SHOW;
    if (previous->title != now.title) order.fieldFlags |= WINDOW_ORDER_FIELD_TITLE;
  }
  if (!previous || previous->frame != now.frame) {
    // No decorations in the guest: client area = window area; one visibility rectangle.
    order.fieldFlags |= WINDOW_ORDER_FIELD_CLIENT_AREA_OFFSET | WINDOW_ORDER_FIELD_CLIENT_AREA_SIZE |
                        WINDOW_ORDER_FIELD_WND_CLIENT_DELTA | WINDOW_ORDER_FIELD_WND_OFFSET |
                        WINDOW_ORDER_FIELD_WND_SIZE | WINDOW_ORDER_FIELD_WND_RECTS |
                        WINDOW_ORDER_FIELD_VIS_OFFSET | WINDOW_ORDER_FIELD_VISIBILITY;
  }
  const auto icon_changed = [&](const Sent& sent) {
    if (!info.icon) return !sent.icon_argb.empty();
    return sent.icon_w != info.icon->width || sent.icon_h != info.icon->height || sent.icon_argb != info.icon->argb;
  };
  const bool send_icon_now = info.icon && (!previous || icon_changed(*previous));
  const bool state_changed = !previous || order.fieldFlags != WINDOW_ORDER_TYPE_WINDOW;
  if (!state_changed && !send_icon_now) return true;  // nothing changed

  std::vector<uint8_t> title = utf8_to_utf16le(now.title, kMaxTitleUnits);
  RECTANGLE_16 rect{0, 0, static_cast<UINT16>(std::clamp(now.frame.width, 0, 0xffff)),
                    static_cast<UINT16>(std::clamp(now.frame.height, 0, 0xffff))};
  WINDOW_STATE_ORDER state{};
  state.ownerWindowId = static_cast<UINT32>(now.owner);
  state.style = now.style.style;
  state.extendedStyle = now.style.ex_style;
  state.showState = now.show;
  state.titleInfo.length = static_cast<UINT16>(title.size());
  state.titleInfo.string = title.data();
  state.clientOffsetX = now.frame.x + info.border;
  state.clientOffsetY = now.frame.y + info.border;
  state.clientAreaWidth = static_cast<UINT32>(now.frame.width - 2 * info.border);
  state.clientAreaHeight = static_cast<UINT32>(now.frame.height - 2 * info.border);
  state.windowClientDeltaX = info.border;
  state.windowClientDeltaY = info.border;
  state.windowOffsetX = now.frame.x;
  state.windowOffsetY = now.frame.y;
  state.windowWidth = static_cast<UINT32>(now.frame.width);
  state.windowHeight = static_cast<UINT32>(now.frame.height);
  state.numWindowRects = 1;
  state.windowRects = &rect;
  state.visibleOffsetX = now.frame.x;
  state.visibleOffsetY = now.frame.y;
  state.numVisibilityRects = 1;
  state.visibilityRects = &rect;

  rdpWindowUpdate* wu = context->update->window;
  if (state_changed) {
    const bool ok = previous ? wu->WindowUpdate(context, &order, &state) : wu->WindowCreate(context, &order, &state);
    if (!ok) return false;
  }
  if (info.icon) {
    now.icon_w = info.icon->width;
    now.icon_h = info.icon->height;
    now.icon_argb = info.icon->argb;
  }
  sent_[info.id] = std::move(now);
  return send_icon_now ? send_icon(context, info) : true;
}

bool WindowOrderSender::send_icon(rdpContext* context, const WindowInfo& info) {
  const WindowIcon& icon = *info.icon;
  // TS_ICON_INFO (MS-RDPERP 2.2.1.2.3): 32 bpp bottom-up BGRA color bits plus a 1 bpp AND mask
  // with rows padded to 2 bytes. The order's size field is 16 bits: stay well below.
  if (icon.width == 0 || icon.height == 0 || icon.width > 96 || icon.height > 96) return true;
  const uint32_t w = icon.width;
  const uint32_t h = icon.height;
  std::vector<uint8_t> color(size_t{w} * h * 4);
  const uint32_t mask_stride = ((w + 15) / 16) * 2;
  std::vector<uint8_t> mask(size_t{mask_stride} * h, 0);
  for (uint32_t y = 0; y < h; ++y) {
    const uint32_t dst_row = h - 1 - y;
    for (uint32_t x = 0; x < w; ++x) {
      const uint32_t p = icon.argb[size_t{y} * w + x];
      uint8_t* d = &color[(size_t{dst_row} * w + x) * 4];
      d[0] = static_cast<uint8_t>(p);
      d[1] = static_cast<uint8_t>(p >> 8);
      d[2] = static_cast<uint8_t>(p >> 16);
      d[3] = static_cast<uint8_t>(p >> 24);
      // AND mask bit 1 = transparent (screen shows through) where alpha is zero.
      if ((p >> 24) == 0) mask[size_t{dst_row} * mask_stride + x / 8] |= static_cast<uint8_t>(0x80 >> (x % 8));
    }
  }
  ICON_INFO ii{};
  ii.cacheEntry = 0xffff;  // not cached
  ii.cacheId = 0xff;
  ii.bpp = 32;
  ii.width = w;
  ii.height = h;
  ii.cbBitsMask = static_cast<UINT32>(mask.size());
  ii.cbBitsColor = static_cast<UINT32>(color.size());
  ii.bitsMask = mask.data();
  ii.bitsColor = color.data();
  WINDOW_ICON_ORDER wio{&ii};
  WINDOW_ORDER_INFO order{};
  order.windowId = static_cast<UINT32>(info.id);
  order.fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_ICON | WINDOW_ORDER_FIELD_ICON_BIG;
  return context->update->window->WindowIcon(context, &order, &wio);
}

bool WindowOrderSender::sync(rdpContext* context, const x11::WindowTracker& tracker) {
  if (hooked_ && tracker.generation() == seen_generation_) return true;
  rdpWindowUpdate* wu = context->update->window;
  const std::vector<Window> stacking = tracker.stacking();  // bottom to top

  if (!hooked_) {
    // MS-RDPERP 3.3.5.1.2: announce that the desktop is actively monitored and bracket the
    // initial window list with "arc began" / "arc completed".
    WINDOW_ORDER_INFO o{};
    o.fieldFlags = WINDOW_ORDER_TYPE_DESKTOP | WINDOW_ORDER_FIELD_DESKTOP_HOOKED |
                   WINDOW_ORDER_FIELD_DESKTOP_ARC_BEGAN;
    MONITORED_DESKTOP_ORDER md{};
    if (!wu->MonitoredDesktop(context, &o, &md)) return false;
  }

  // Deletions first, so a reused X id never meets a stale client window.
  for (auto it = sent_.begin(); it != sent_.end();) {
    const WindowInfo* info = tracker.find(it->first);
    if (info && info->shown()) {
      ++it;
      continue;
    }
    WINDOW_ORDER_INFO o{};
    o.windowId = static_cast<UINT32>(it->first);
    o.fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_STATE_DELETED;
    if (!wu->WindowDelete(context, &o)) return false;
    it = sent_.erase(it);
  }
  // Owners before the windows they own, then bottom to top.
  std::vector<Window> order = stacking;
  std::stable_partition(order.begin(), order.end(), [&](Window w) { return tracker.find(w)->owner == 0; });
  for (Window w : order) {
    const WindowInfo* info = tracker.find(w);
    auto it = sent_.find(w);
    if (!send_window(context, *info, it == sent_.end() ? nullptr : &it->second)) return false;
  }

  std::vector<uint32_t> z(stacking.rbegin(), stacking.rend());
  const auto active = static_cast<uint32_t>(tracker.active());
  const bool active_known = active == 0 || sent_.contains(active);
  if (!hooked_ || z != zorder_ || (active != active_ && active_known)) {
    WINDOW_ORDER_INFO o{};
    o.fieldFlags = WINDOW_ORDER_TYPE_DESKTOP | WINDOW_ORDER_FIELD_DESKTOP_ZORDER |
                   WINDOW_ORDER_FIELD_DESKTOP_ACTIVE_WND;
    if (!hooked_) o.fieldFlags |= WINDOW_ORDER_FIELD_DESKTOP_ARC_COMPLETED;
    MONITORED_DESKTOP_ORDER md{};
    md.activeWindowId = active_known && active != 0 ? active : 0xffffffffu;  // none
    md.numWindowIds = static_cast<UINT32>(z.size());
    md.windowIds = z.data();
    if (!wu->MonitoredDesktop(context, &o, &md)) return false;
    zorder_ = std::move(z);
    active_ = active;
  }
  hooked_ = true;
  seen_generation_ = tracker.generation();
  return true;
}

}  // namespace vitrine::appserver::rdp
