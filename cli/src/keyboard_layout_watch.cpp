#include "keyboard_layout_watch.hpp"

#include <X11/Xatom.h>
#include <X11/Xlib.h>

namespace vitrine::cli {

struct KeyboardLayoutWatch::X {
  Display* display = nullptr;
  Atom rules_names = None;
};

std::unique_ptr<KeyboardLayoutWatch> KeyboardLayoutWatch::open(const std::string& display) {
  if (display.empty()) return nullptr;
  Display* d = XOpenDisplay(display.c_str());
  if (d == nullptr) return nullptr;
  std::unique_ptr<KeyboardLayoutWatch> w(new KeyboardLayoutWatch);
  w->x_ = std::make_unique<X>();
  w->x_->display = d;
  w->x_->rules_names = XInternAtom(d, "_XKB_RULES_NAMES", False);
  XSelectInput(d, DefaultRootWindow(d), PropertyChangeMask);
  XFlush(d);
  return w;
}

KeyboardLayoutWatch::~KeyboardLayoutWatch() {
  if (x_ && x_->display != nullptr) XCloseDisplay(x_->display);
}

int KeyboardLayoutWatch::fd() const { return ConnectionNumber(x_->display); }

bool KeyboardLayoutWatch::changed() {
  bool changed = false;
  while (XPending(x_->display) > 0) {
    XEvent e;
    XNextEvent(x_->display, &e);
    if (e.type == PropertyNotify && e.xproperty.atom == x_->rules_names) changed = true;
  }
  return changed;
}

}  // namespace vitrine::cli
