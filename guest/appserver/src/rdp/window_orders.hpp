// Windowing alternate secondary orders (MS-RDPERP 2.2.1.3) for one client: keeps what it last
// told this client about every window and sends only the difference with the tracker's state:
// new/updated/deleted windows, icons, and the monitored desktop (z-order, active window).
// A new session starts empty, so every reconnect gets a complete, fresh picture.
#pragma once

#include <freerdp/freerdp.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "../x11/window_info.hpp"
#include "../x11/window_tracker.hpp"

namespace vitrine::appserver::rdp {

// UTF-8 -> UTF-16LE bytes, as RAIL_UNICODE_STRING carries titles. Invalid sequences become
// U+FFFD; the result is capped at `max_units` code units.
std::vector<uint8_t> utf8_to_utf16le(const std::string& s, size_t max_units);

// Style and extended style for a window (what xfreerdp uses to pick override-redirect etc.).
struct WindowStyle {
  uint32_t style = 0;
  uint32_t ex_style = 0;
};
WindowStyle style_for(const WindowInfo& info);

class WindowOrderSender {
 public:
  // Sends what changed since the last call. Call between BeginPaint and EndPaint.
  // Returns false when the connection failed.
  bool sync(rdpContext* context, const x11::WindowTracker& tracker);
  [[nodiscard]] size_t known_windows() const { return sent_.size(); }

 private:
  struct Sent {
    Rect frame;
    std::string title;
    Window owner = 0;
    WindowStyle style;
    uint32_t show = 0;
    std::vector<uint32_t> icon_argb;
    uint32_t icon_w = 0;
    uint32_t icon_h = 0;
  };
  bool send_window(rdpContext* context, const WindowInfo& info, Sent* previous);
  bool send_icon(rdpContext* context, const WindowInfo& info);

  std::map<Window, Sent> sent_;
  std::vector<uint32_t> zorder_;  // topmost first, as MS-RDPERP 2.2.1.3.3.2.2 wants it
  uint32_t active_ = 0;
  bool hooked_ = false;
  uint64_t seen_generation_ = 0;
};

}  // namespace vitrine::appserver::rdp
