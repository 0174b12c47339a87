// Follows the X cursor shape through XFixes (CursorNotify), so the client can draw the pointer
// locally. Session thread only.
#pragma once

#include <X11/Xlib.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "x_display.hpp"

namespace vitrine::appserver {

struct CursorImage {
  uint64_t serial = 0;  // XFixes cursor serial: equal serials are equal images
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t hot_x = 0;
  uint32_t hot_y = 0;
  std::vector<uint32_t> argb;  // premultiplied ARGB, row-major, top-down
};

}  // namespace vitrine::appserver

namespace vitrine::appserver::x11 {

class CursorWatcher {
 public:
  explicit CursorWatcher(XDisplay& display) : display_(display) {}
  void start();
  // Returns true when `ev` was a CursorNotify; the new image is then in current().
  bool handle_event(const XEvent& ev);
  [[nodiscard]] const std::optional<CursorImage>& current() const { return current_; }
  [[nodiscard]] uint64_t generation() const { return generation_; }

 private:
  void fetch();
  XDisplay& display_;
  std::optional<CursorImage> current_;
  uint64_t generation_ = 0;
};

}  // namespace vitrine::appserver::x11
