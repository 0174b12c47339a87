// Test helper: a private Xvfb on a free display number (-displayfd), stopped on destruction.
#pragma once

#include <X11/Xlib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

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

// A mapped top-level window of `dpy` whose WM_CLASS class is `res_class`: its id and its frame
// in root coordinates (border included), or nothing.
struct TopLevel {
  Window id = 0;
  int x = 0, y = 0, w = 0, h = 0;
};
std::optional<TopLevel> find_top_level(Display* dpy, const std::string& res_class);

}  // namespace vitrine::appserver::testing
