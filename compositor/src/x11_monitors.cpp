#include "x11_monitors.hpp"

#include <X11/Xatom.h>
#include <dlfcn.h>

#include <algorithm>

namespace vitrine::compositor {

// Xrandr.h's XRRMonitorInfo (libXrandr >= 1.5); only read, never allocated here.
struct X11Monitors::MonitorInfo {
  Atom name;
  Bool primary;
  Bool automatic;
  int noutput;
  int x;
  int y;
  int width;
  int height;
  int mwidth;
  int mheight;
  unsigned long* outputs;
};

namespace {
constexpr int kRRScreenChangeNotifyMask = 1;  // randr.h
}  // namespace

X11Monitors::X11Monitors(Display* display, Atom net_workarea) : display_(display), net_workarea_(net_workarea) {
  library_ = dlopen("libXrandr.so.2", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (library_ != nullptr) {
    using QueryExtension = Bool (*)(Display*, int*, int*);
    using QueryVersion = Status (*)(Display*, int*, int*);
    using SelectInput = void (*)(Display*, ::Window, int);
    auto query = reinterpret_cast<QueryExtension>(dlsym(library_, "XRRQueryExtension"));
    auto version = reinterpret_cast<QueryVersion>(dlsym(library_, "XRRQueryVersion"));
    auto select = reinterpret_cast<SelectInput>(dlsym(library_, "XRRSelectInput"));
    auto get = reinterpret_cast<GetMonitors>(dlsym(library_, "XRRGetMonitors"));
    auto free = reinterpret_cast<FreeMonitors>(dlsym(library_, "XRRFreeMonitors"));
    int event_base = 0, error_base = 0, major = 0, minor = 0;
    if (query != nullptr && version != nullptr && select != nullptr && get != nullptr && free != nullptr &&
        query(display_, &event_base, &error_base) && version(display_, &major, &minor) &&
        (major > 1 || (major == 1 && minor >= 5))) {
      get_monitors_ = get;
      free_monitors_ = free;
      event_base_ = event_base;  // + RRScreenChangeNotify (0)
      select(display_, DefaultRootWindow(display_), kRRScreenChangeNotifyMask);
    }
  }
  refresh();
}

// libXrandr stays loaded: it registers close hooks on every display it touched, which
// XCloseDisplay calls after this object is gone (a dlclose here crashed in XCloseDisplay).
X11Monitors::~X11Monitors() = default;

void X11Monitors::refresh() {
  monitors_.clear();
  const ::Window root = DefaultRootWindow(display_);
  if (get_monitors_ != nullptr) {
    int n = 0;
    MonitorInfo* info = get_monitors_(display_, root, True, &n);
    if (info != nullptr) {
      // The primary monitor first: it is the fallback for a window on no monitor.
      for (int pass = 0; pass < 2; ++pass) {
        for (int i = 0; i < n; ++i) {
          const HostRect r{info[i].x, info[i].y, info[i].width, info[i].height};
          if (!r.empty() && (info[i].primary != 0) == (pass == 0)) monitors_.push_back(Monitor{r, r});
        }
      }
      free_monitors_(info);
    }
  }
  if (monitors_.empty()) {
    const int s = DefaultScreen(display_);
    const HostRect r{0, 0, DisplayWidth(display_, s), DisplayHeight(display_, s)};
    monitors_.push_back(Monitor{r, r});
  }
  // EWMH _NET_WORKAREA: x, y, width, height per desktop; desktop 0's applies to every monitor.
  Atom type = 0;
  int format = 0;
  unsigned long count = 0, after = 0;
  unsigned char* data = nullptr;
  if (XGetWindowProperty(display_, root, net_workarea_, 0, 4, False, XA_CARDINAL, &type, &format, &count, &after,
                         &data) == Success &&
      data != nullptr) {
    if (format == 32 && count >= 4) {
      const auto* v = reinterpret_cast<const long*>(data);
      const HostRect work{static_cast<std::int32_t>(v[0]), static_cast<std::int32_t>(v[1]),
                          static_cast<std::int32_t>(v[2]), static_cast<std::int32_t>(v[3])};
      for (Monitor& m : monitors_) {
        const HostRect clipped = m.bounds.intersect(work);
        if (!clipped.empty()) m.work_area = clipped;
      }
    }
    XFree(data);
  }
}

}  // namespace vitrine::compositor
