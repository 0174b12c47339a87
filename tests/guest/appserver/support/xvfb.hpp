// Test helper: a private Xvfb on a free display number (-displayfd), stopped on destruction.
#pragma once

#include <X11/Xlib.h>

#include <memory>
#include <string>

#include "child_process.hpp"

namespace vitrine::appserver::testing {

class Xvfb {
 public:
  // Empty result when Xvfb is missing or did not start (the caller skips).
  static std::unique_ptr<Xvfb> start(int width = 1024, int height = 768);
  ~Xvfb();
  [[nodiscard]] const std::string& display() const { return display_; }
  // A connection of the test's own (closed with the Xvfb).
  [[nodiscard]] Display* connection() const { return dpy_; }

 private:
  Xvfb() = default;
  ChildProcess process_;
  std::string display_;
  Display* dpy_ = nullptr;
};

// Pixels of `w`x`h` at (x, y) of drawable `d` as 0x00RRGGBB values (alpha/padding cleared).
std::vector<uint32_t> read_pixels(Display* dpy, Drawable d, int x, int y, int w, int h);

}  // namespace vitrine::appserver::testing
