#include "damage_tracker.hpp"

namespace vitrine::appserver::x11 {

DamageTracker::~DamageTracker() {
  for (auto& [w, d] : damages_) XDamageDestroy(display_.get(), d);
}

void DamageTracker::track(Window w) {
  if (damages_.contains(w)) return;
  // Raw rectangles: one event per drawing operation carrying its area, so no round trip
  // (DamageSubtract + FetchRegion) stands between a draw and the encoder.
  const Damage d = XDamageCreate(display_.get(), w, XDamageReportRawRectangles);
  if (d != None) damages_.emplace(w, d);
}

void DamageTracker::untrack(Window w) {
  auto it = damages_.find(w);
  if (it == damages_.end()) return;
  // The server frees a window's damage objects with the window; a BadDamage here is counted by
  // the error handler and harmless.
  XDamageDestroy(display_.get(), it->second);
  damages_.erase(it);
}

bool DamageTracker::handle_event(const XEvent& ev, const Sink& sink) {
  if (ev.type != display_.damage_event_base() + XDamageNotify) return false;
  const auto& de = reinterpret_cast<const XDamageNotifyEvent&>(ev);
  if (damages_.contains(de.drawable))
    sink(de.drawable, Rect{de.area.x, de.area.y, de.area.width, de.area.height});
  return true;
}

}  // namespace vitrine::appserver::x11
