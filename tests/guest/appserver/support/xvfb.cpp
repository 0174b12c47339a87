#include "xvfb.hpp"

#include <X11/Xutil.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace vitrine::appserver::testing {
namespace {
// Tests walk other clients' windows, which may vanish between XQueryTree and the next request;
// Xlib's default handler would exit the whole test program on that BadWindow.
int ignore_x_error(Display*, XErrorEvent*) { return 0; }
}  // namespace

std::unique_ptr<Xvfb> Xvfb::start(int width, int height) {
  if (!have_program("Xvfb")) return nullptr;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return nullptr;
  std::unique_ptr<Xvfb> x(new Xvfb());
  ChildOptions opts;
  opts.fds = {{p[1], 3}};
  opts.stderr_path = "/dev/null";
  x->process_ = ChildProcess({"Xvfb", "-displayfd", "3", "-screen", "0",
                              std::to_string(width) + "x" + std::to_string(height) + "x24", "-nolisten", "tcp",
                              "+extension", "Composite", "+extension", "DAMAGE"},
                             opts);
  ::close(p[1]);
  std::string num;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (num.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd pf{p[0], POLLIN, 0};
    if (::poll(&pf, 1, 200) <= 0) continue;
    char buf[32];
    const ssize_t n = ::read(p[0], buf, sizeof(buf));
    if (n <= 0) break;
    num.append(buf, static_cast<size_t>(n));
  }
  ::close(p[0]);
  if (num.find('\n') == std::string::npos) return nullptr;
  x->display_ = ":" + num.substr(0, num.find('\n'));
  XSetErrorHandler(ignore_x_error);
  x->dpy_ = XOpenDisplay(x->display_.c_str());
  if (!x->dpy_) return nullptr;
  return x;
}

Xvfb::~Xvfb() {
  if (dpy_) XCloseDisplay(dpy_);
  process_.stop();
}

std::vector<uint32_t> read_pixels(Display* dpy, Drawable d, int x, int y, int w, int h) {
  std::vector<uint32_t> out;
  XImage* img = XGetImage(dpy, d, x, y, static_cast<unsigned>(w), static_cast<unsigned>(h), AllPlanes, ZPixmap);
  if (!img) return out;
  out.reserve(static_cast<size_t>(w) * static_cast<size_t>(h));
  for (int yy = 0; yy < h; ++yy) {
    for (int xx = 0; xx < w; ++xx) out.push_back(static_cast<uint32_t>(XGetPixel(img, xx, yy)) & 0xffffffu);
  }
  XDestroyImage(img);
  return out;
}

std::optional<TopLevel> find_top_level(Display* dpy, const std::string& res_class) {
  Window root_ret = 0, parent = 0, *children = nullptr;
  unsigned n = 0;
  XSync(dpy, False);
  if (!XQueryTree(dpy, DefaultRootWindow(dpy), &root_ret, &parent, &children, &n)) return std::nullopt;
  std::optional<TopLevel> found;
  for (unsigned i = 0; i < n && !found; ++i) {
    XClassHint hint{};
    if (!XGetClassHint(dpy, children[i], &hint)) continue;
    const bool match = hint.res_class && res_class == hint.res_class;
    if (hint.res_name) XFree(hint.res_name);
    if (hint.res_class) XFree(hint.res_class);
    XWindowAttributes a{};
    if (match && XGetWindowAttributes(dpy, children[i], &a) && a.map_state == IsViewable)
      found = TopLevel{children[i], a.x, a.y, a.width + 2 * a.border_width, a.height + 2 * a.border_width};
  }
  if (children) XFree(children);
  return found;
}

}  // namespace vitrine::appserver::testing
