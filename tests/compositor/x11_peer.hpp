// What the X11 compositor tests ask the X server from their own ("peer") connection, shared by
// x11_test, x11_guard_test and x11_wm_test.
#pragma once

#include <gtest/gtest.h>

#include "vitrine/compositor/compositor.hpp"
#include "vitrine/compositor/x11_backend.hpp"

#include <X11/Xlib.h>

namespace vitrine::compositor::testing {

// Where a window is on the root window, and its size, as the X server has it now.
inline DesktopRect root_geometry(Display* peer, ::Window w) {
  XWindowAttributes a{};
  XGetWindowAttributes(peer, w, &a);
  int x = 0, y = 0;
  ::Window child = 0;
  XTranslateCoordinates(peer, w, DefaultRootWindow(peer), 0, 0, &x, &y, &child);
  return {x, y, a.width, a.height};
}

// present(), then everything it drew and asked is done in the GPU and the X server, as the peer
// sees it.
inline void present_and_sync(Compositor& comp, X11Backend& backend, Display* peer, const PixelSource& fb) {
  auto r = comp.present(fb);
  ASSERT_TRUE(r) << to_string(r.error());
  comp.finish();
  backend.sync();
  XSync(peer, False);
}

}  // namespace vitrine::compositor::testing
