#include "x11_capture.hpp"

#include <X11/extensions/Xcomposite.h>

namespace vitrine::appserver::x11 {

std::expected<std::unique_ptr<X11Capture>, std::string> X11Capture::open(const CaptureOptions& opts) {
  auto display = XDisplay::open(opts.display);
  if (!display) return std::unexpected(display.error());
  std::unique_ptr<X11Capture> c(new X11Capture(std::move(*display), opts.per_window_damage));
  auto grabber = PixelGrabber::create(*c->display_, opts.use_shm);
  if (!grabber) return std::unexpected(grabber.error());
  c->grabber_ = std::move(*grabber);
  Display* dpy = c->display_->get();
  // Automatic redirection: the server still composites the screen itself, and every top-level
  // window gets its own backing pixmap, so occluded content stays readable (grab_window).
  XCompositeRedirectSubwindows(dpy, c->display_->root(), CompositeRedirectAutomatic);
  c->tracker_.start([raw = c.get()](const WindowInfo& info, bool shown) { raw->on_shown_changed(info, shown); });
  c->cursor_.start();
  // Damage on the root reports every change of the composited screen, the server's own
  // compositing of redirected windows included (per-window damage misses what the server
  // composites after a window moves or restacks).
  c->damage_tracker_.track(c->display_->root());
  XSync(dpy, False);
  return c;
}

X11Capture::X11Capture(std::unique_ptr<XDisplay> display, bool per_window_damage)
    : display_(std::move(display)),
      tracker_(*display_),
      damage_tracker_(*display_),
      cursor_(*display_),
      input_(*display_),
      actions_(*display_, tracker_),
      per_window_damage_(per_window_damage) {}

X11Capture::~X11Capture() {
  input_.release_all();
  XCompositeUnredirectSubwindows(display_->get(), display_->root(), CompositeRedirectAutomatic);
  XSync(display_->get(), False);
}

void X11Capture::on_shown_changed(const WindowInfo& info, bool shown) {
  if (!per_window_damage_) return;
  if (shown && !info.minimized) {
    damage_tracker_.track(info.id);
    auto& region = window_damage_[info.id];
    if (!region) region = std::make_unique<DamageRegion>();
    region->add(Rect{0, 0, info.frame.width - 2 * info.border, info.frame.height - 2 * info.border});
  } else {
    damage_tracker_.untrack(info.id);
    window_damage_.erase(info.id);
  }
}

DamageRegion* X11Capture::window_damage(Window w) {
  auto it = window_damage_.find(w);
  return it == window_damage_.end() ? nullptr : it->second.get();
}

int X11Capture::pump() {
  Display* dpy = display_->get();
  int n = 0;
  const Window root = display_->root();
  const auto sink = [this, root](Window w, const Rect& r) {
    if (w == root) {
      damage_.add(r);
    } else if (DamageRegion* region = window_damage(w)) {
      region->add(r);
    }
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
