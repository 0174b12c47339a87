// Reads pixels out of the X server: MIT-SHM (XShmGetImage into one shared segment sized for the
// whole screen) when the server offers it, XGetImage otherwise. Output is 32-bit BGRX, the X
// server's native layout for depth 24/32 on little-endian machines.
#pragma once

#include <X11/Xlib.h>
#include <X11/extensions/XShm.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "../geometry.hpp"
#include "x_display.hpp"

namespace vitrine::appserver::x11 {

// Pixels borrowed from the grabber; valid until its next grab.
struct ImageView {
  const uint8_t* data = nullptr;
  int32_t stride = 0;  // bytes per row
  int32_t width = 0;
  int32_t height = 0;
};

class PixelGrabber {
 public:
  static std::expected<std::unique_ptr<PixelGrabber>, std::string> create(XDisplay& display,
                                                                         bool use_shm);
  ~PixelGrabber();
  PixelGrabber(const PixelGrabber&) = delete;
  PixelGrabber& operator=(const PixelGrabber&) = delete;

  // `r` in desktop coordinates, clipped by the caller to the screen. The composited screen:
  // what the client's desktop framebuffer must hold.
  std::expected<ImageView, std::string> grab_screen(const Rect& r);
  // `r` relative to window `w`. With Composite redirection the window's own pixels, even where
  // other windows cover it (the source for per-window shared surfaces).
  std::expected<ImageView, std::string> grab_window(Window w, const Rect& r);
  [[nodiscard]] bool using_shm() const { return shm_attached_; }

 private:
  explicit PixelGrabber(XDisplay& display) : display_(display) {}
  std::expected<ImageView, std::string> grab(Drawable d, const Rect& r);

  XDisplay& display_;
  XShmSegmentInfo shm_{};
  size_t shm_size_ = 0;
  bool shm_attached_ = false;
  XImage* plain_ = nullptr;  // last XGetImage result (fallback path)
};

}  // namespace vitrine::appserver::x11
