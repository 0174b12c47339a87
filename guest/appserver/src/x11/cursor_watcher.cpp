#include "cursor_watcher.hpp"

#include <X11/extensions/Xfixes.h>

namespace vitrine::appserver::x11 {

void CursorWatcher::start() {
  XFixesSelectCursorInput(display_.get(), display_.root(), XFixesDisplayCursorNotifyMask);
  fetch();
}

bool CursorWatcher::handle_event(const XEvent& ev) {
  if (ev.type != display_.fixes_event_base() + XFixesCursorNotify) return false;
  const auto& ce = reinterpret_cast<const XFixesCursorNotifyEvent&>(ev);
  if (!current_ || current_->serial != ce.cursor_serial) fetch();
  return true;
}

void CursorWatcher::fetch() {
  XFixesCursorImage* img = XFixesGetCursorImage(display_.get());
  if (!img) return;
  CursorImage c;
  c.serial = img->cursor_serial;
  // Bounded by the protocol (16-bit sizes); clamp the hotspot into the image.
  c.width = img->width;
  c.height = img->height;
  c.hot_x = img->xhot < img->width ? img->xhot : 0;
  c.hot_y = img->yhot < img->height ? img->yhot : 0;
  c.argb.resize(size_t{c.width} * c.height);
  // XFixes hands pixels as C long, one 32-bit ARGB value each.
  for (size_t i = 0; i < c.argb.size(); ++i) c.argb[i] = static_cast<uint32_t>(img->pixels[i]);
  XFree(img);
  current_ = std::move(c);
  ++generation_;
}

}  // namespace vitrine::appserver::x11
