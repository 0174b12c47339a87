#include "x11_capture.hpp"

#include <X11/extensions/Xcomposite.h>

namespace vitrine::appserver::x11 {

std::expected<std::unique_ptr<X11Capture>, std::string> X11Capture::open(const CaptureOptions& opts) {
  auto display = XDisplay::open(opts.display);
  if (!display) return std::unexpected(display.error());
  std::unique_ptr<X11Capture> c(new X11Capture(std::move(*display)));
  auto grabber = PixelGrabber::create(*c->display_, opts.use_shm);
  if (!grabber) return std::unexpected(grabber.error());
  c->grabber_ = std::move(*grabber);
  Display* dpy = c->display_->get();
  // Automatic redirection: the server still composites the screen itself, and every top-level
  // window gets its own backing pixmap, so occluded content stays readable (grab_window).
  XCompositeRedirectSubwindows(dpy, c->display_->root(), CompositeRedirectAutomatic);
  c->tracker_.start([raw = c.get()](const WindowInfo& info, bool shown) { raw->on_shown_changed(info, shown); });
  c->cursor_.start();
  XSync(dpy, False);
  return c;
}

X11Capture::X11Capture(std::unique_ptr<XDisplay> display)
    : display_(std::move(display)),
      tracker_(*display_),
      damage_tracker_(*display_),
      cursor_(*display_),
      input_(*display_),
      actions_(*display_, tracker_) {}

X11Capture::~X11Capture() {
  input_.release_all();
  XCompositeUnredirectSubwindows(display_->get(), display_->root(), CompositeRedirectAutomatic);
  XSync(display_->get(), False);
}

void X11Capture::on_shown_changed(const WindowInfo& info, bool shown) {
  if (shown && !info.minimized) {
    damage_tracker_.track(info.id);
  } else {
    damage_tracker_.untrack(info.id);
  }
}

int X11Capture::pump() {
  Display* dpy = display_->get();
  int n = 0;
  const auto sink = [this](Window w, const Rect& r) {
    const WindowInfo* info = tracker_.find(w);
    if (!info || !info->shown()) return;
    damage_.add(Rect{info->frame.x + info->border + r.x, info->frame.y + info->border + r.y,
                     r.width, r.height}
                     .intersect(info->frame));
  };
  while (XPending(dpy) > 0) {
    XEvent ev;
    XNextEvent(dpy, &ev);
    ++n;
    if (damage_tracker_.handle_event(ev, sink)) continue;
    if (cursor_.handle_event(ev)) continue;
    tracker_.handle_event(ev);
  }
  // Window appearances, moves and removals expose areas no per-window damage reports.
  DamageRegion& exposed = tracker_.exposed();
  if (!exposed.empty()) {
    for (const Rect& r : exposed.rects(desktop(), 64)) damage_.add(r);
    exposed.clear();
  }
  events_ += static_cast<uint64_t>(n);
  return n;
}

}  // namespace vitrine::appserver::x11
