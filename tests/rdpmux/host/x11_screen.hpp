// Test helper: known pixels on an X server's root window, and a screenshot of it (Xlib).
// Used to compare what a shadowing RDP server (freerdp-shadow-cli) delivered with the screen.
#pragma once

#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vitrine::rdpmux::host::testing {

// 0x00RRGGBB per pixel, rows top-down.
struct Screenshot {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint32_t> pixels;
  std::uint32_t at(std::uint32_t x, std::uint32_t y) const { return pixels[std::size_t{y} * width + x]; }
};

// A connection to one X display (closed on destruction).
class X11Screen {
 public:
  explicit X11Screen(const std::string& display) : display_(XOpenDisplay(display.c_str())) {}
  ~X11Screen() {
    if (display_) XCloseDisplay(display_);
  }
  X11Screen(const X11Screen&) = delete;
  X11Screen& operator=(const X11Screen&) = delete;
  bool open() const { return display_ != nullptr; }
  int depth() const { return DefaultDepth(display_, DefaultScreen(display_)); }

  // Makes `pattern(x, y)` (0xRRGGBB) the root window's background and clears the root to it, so
  // it stays on screen (a background is repainted on every expose). Needs a 24-bit TrueColor
  // default visual.
  bool paint_root(std::uint32_t width, std::uint32_t height,
                  const std::function<std::uint32_t(std::uint32_t, std::uint32_t)>& pattern) {
    const int screen = DefaultScreen(display_);
    const Window root = RootWindow(display_, screen);
    if (depth() != 24) return false;
    auto* data = static_cast<char*>(std::malloc(std::size_t{width} * height * 4));
    if (!data) return false;
    XImage* image = XCreateImage(display_, DefaultVisual(display_, screen), 24, ZPixmap, 0, data, width, height, 32, 0);
    if (!image) {
      std::free(data);
      return false;
    }
    for (std::uint32_t y = 0; y < height; ++y)
      for (std::uint32_t x = 0; x < width; ++x) XPutPixel(image, static_cast<int>(x), static_cast<int>(y), pattern(x, y));
    const Pixmap pixmap = XCreatePixmap(display_, root, width, height, 24);
    XPutImage(display_, pixmap, DefaultGC(display_, screen), image, 0, 0, 0, 0, width, height);
    XDestroyImage(image);  // frees data
    XSetWindowBackgroundPixmap(display_, root, pixmap);
    XClearWindow(display_, root);
    XFreePixmap(display_, pixmap);  // the window keeps its background
    XSync(display_, False);
    return true;
  }

  // The root window's pixels as the X server holds them (the cursor is not part of them:
  // XGetImage never includes a software cursor).
  std::optional<Screenshot> grab(std::uint32_t width, std::uint32_t height) {
    const Window root = DefaultRootWindow(display_);
    XImage* image = XGetImage(display_, root, 0, 0, width, height, AllPlanes, ZPixmap);
    if (!image) return std::nullopt;
    Screenshot shot{width, height, std::vector<std::uint32_t>(std::size_t{width} * height)};
    for (std::uint32_t y = 0; y < height; ++y)
      for (std::uint32_t x = 0; x < width; ++x)
        shot.pixels[std::size_t{y} * width + x] =
            static_cast<std::uint32_t>(XGetPixel(image, static_cast<int>(x), static_cast<int>(y))) & 0xFFFFFFu;
    XDestroyImage(image);
    return shot;
  }

 private:
  Display* display_;
};

}  // namespace vitrine::rdpmux::host::testing
