// Test helper that runs INSIDE a sandbox guest: screenshots of the guest's X root window every
// interval, as shot-<n>.png in a host folder (the sandbox shares the host file system outside
// /tmp), keeping the last few. The demo tests compare the host's windows with these: "what the
// guest itself shows".
//
//   vitrine_test_guest_xshot :0 /path/to/dir [interval_ms]
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "vitrine/catalog/png_image.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DISPLAY DIR [interval_ms]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[2];
  const int interval_ms = argc > 3 ? std::atoi(argv[3]) : 300;
  Display* dpy = nullptr;
  for (int i = 0; i < 600 && dpy == nullptr; ++i) {  // the guest's Xvfb may still be starting
    dpy = XOpenDisplay(argv[1]);
    if (dpy == nullptr) ::usleep(50'000);
  }
  if (dpy == nullptr) {
    std::fprintf(stderr, "guest_xshot: cannot open display %s\n", argv[1]);
    return 1;
  }
  const Window root = DefaultRootWindow(dpy);
  XWindowAttributes attrs;
  XGetWindowAttributes(dpy, root, &attrs);
  constexpr int kKeep = 8;
  for (long n = 0;; ++n) {
    XImage* img = XGetImage(dpy, root, 0, 0, static_cast<unsigned>(attrs.width), static_cast<unsigned>(attrs.height),
                            AllPlanes, ZPixmap);
    if (img != nullptr) {
      vitrine::catalog::RgbaImage rgba;
      rgba.width = static_cast<std::uint32_t>(attrs.width);
      rgba.height = static_cast<std::uint32_t>(attrs.height);
      rgba.pixels.resize(static_cast<std::size_t>(rgba.width) * rgba.height * 4);
      for (int y = 0; y < attrs.height; ++y)
        for (int x = 0; x < attrs.width; ++x) {
          const unsigned long p = XGetPixel(img, x, y);
          std::uint8_t* o = &rgba.pixels[(static_cast<std::size_t>(y) * rgba.width + x) * 4];
          o[0] = static_cast<std::uint8_t>(p >> 16);
          o[1] = static_cast<std::uint8_t>(p >> 8);
          o[2] = static_cast<std::uint8_t>(p);
          o[3] = 0xff;
        }
      XDestroyImage(img);
      if (auto png = vitrine::catalog::encode_png(rgba)) {
        const auto file = dir / ("shot-" + std::to_string(n) + ".png");
        {
          std::ofstream out(file.string() + ".tmp", std::ios::binary | std::ios::trunc);
          out.write(reinterpret_cast<const char*>(png->data()), static_cast<std::streamsize>(png->size()));
        }
        std::error_code ec;
        std::filesystem::rename(file.string() + ".tmp", file, ec);
        std::filesystem::remove(dir / ("shot-" + std::to_string(n - kKeep) + ".png"), ec);
      }
    }
    ::usleep(static_cast<useconds_t>(interval_ms) * 1000);
  }
}
