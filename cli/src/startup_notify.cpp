#include "startup_notify.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include <X11/Xatom.h>
#include <X11/Xlib.h>

namespace vitrine::cli {

struct StartupNotify::X {
  Display* display = nullptr;
  ::Window sender = 0;  // the spec's "window": an unmapped window of ours
  Atom begin = None, more = None, startup_id = None, utf8 = None;
};

std::unique_ptr<StartupNotify> StartupNotify::open(const std::string& display) {
  if (display.empty()) return nullptr;
  Display* d = XOpenDisplay(display.c_str());
  if (d == nullptr) return nullptr;
  std::unique_ptr<StartupNotify> n(new StartupNotify);
  n->x_ = std::make_unique<X>();
  X& x = *n->x_;
  x.display = d;
  XSetWindowAttributes attrs{};
  attrs.override_redirect = True;
  x.sender = XCreateWindow(d, DefaultRootWindow(d), -100, -100, 1, 1, 0, CopyFromParent, InputOnly, CopyFromParent,
                           CWOverrideRedirect, &attrs);
  x.begin = XInternAtom(d, "_NET_STARTUP_INFO_BEGIN", False);
  x.more = XInternAtom(d, "_NET_STARTUP_INFO", False);
  x.startup_id = XInternAtom(d, "_NET_STARTUP_ID", False);
  x.utf8 = XInternAtom(d, "UTF8_STRING", False);
  return n;
}

StartupNotify::~StartupNotify() {
  if (!x_) return;
  if (x_->sender != 0) XDestroyWindow(x_->display, x_->sender);
  XCloseDisplay(x_->display);
}

void StartupNotify::send(std::string_view message) {
  // The message with its terminating NUL, 20 bytes per ClientMessage: the first typed
  // _NET_STARTUP_INFO_BEGIN, the rest _NET_STARTUP_INFO (spec: "Communication").
  std::string bytes(message);
  bytes.push_back('\0');
  for (std::size_t at = 0; at < bytes.size(); at += 20) {
    XEvent e{};
    e.xclient.type = ClientMessage;
    e.xclient.display = x_->display;
    e.xclient.window = x_->sender;
    e.xclient.message_type = at == 0 ? x_->begin : x_->more;
    e.xclient.format = 8;
    std::memcpy(e.xclient.data.b, bytes.data() + at, std::min<std::size_t>(20, bytes.size() - at));
    XSendEvent(x_->display, DefaultRootWindow(x_->display), False, PropertyChangeMask, &e);
  }
  XFlush(x_->display);
}

void StartupNotify::begin(const std::string& id, std::string_view app) {
  send("new: ID=" + quote(id) + " NAME=" + quote(app) + " SCREEN=" + std::to_string(DefaultScreen(x_->display)) +
       " BIN=" + quote("vitrine") + " DESCRIPTION=" + quote("Starting " + std::string(app)));
}

void StartupNotify::end(const std::string& id) { send("remove: ID=" + quote(id)); }

void StartupNotify::tag_window(unsigned long xid, const std::string& id) {
  XChangeProperty(x_->display, xid, x_->startup_id, x_->utf8, 8, PropModeReplace,
                  reinterpret_cast<const unsigned char*>(id.data()), static_cast<int>(id.size()));
  XFlush(x_->display);
}

std::string StartupNotify::quote(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string StartupNotify::new_id(std::string_view app) {
  static std::atomic<unsigned> n{0};
  std::string safe;
  for (char c : app) safe += (c == ' ' || c == '"' || c == '\\' || c == '\0') ? '_' : c;
  return "vitrine-" + safe + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "_TIME0";
}

}  // namespace vitrine::cli
