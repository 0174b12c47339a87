// BusImageReader: has the guest's X server write window pixels straight into bus memory. The
// bus file (a memfd in the sandbox, the ivshmem BAR2 resource file in a VM) is attached to the
// X server as one MIT-SHM segment (xcb_shm_attach_fd, MIT-SHM 1.2); ShmGetImage then writes a
// window's rows at any offset of it. No user-space copy of a pixel in the guest: the X server's
// own copy from the window's composite pixmap is the only one.
//
// ShmGetImage writes a packed image (rows of exactly width * 4 bytes), so a surface whose stride
// is its width * 4 receives full-width bands of rows in place. Where the X server cannot attach
// the bus (no MIT-SHM 1.2, a server on another machine, a BAR it may not map), read() falls back
// to the grabber's private segment plus one memcpy per row into the pool, counted in copies().
#pragma once

#include <X11/Xlib.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "../geometry.hpp"
#include "../x11/pixel_grabber.hpp"

namespace vitrine::appserver::surface {

class BusImageReader {
 public:
  // `bus_fd`: any fd of the bus file (dup'ed; -1: no attach, copy path only). `region_base` is
  // where this process mapped the same file (offset 0 of the region).
  static std::unique_ptr<BusImageReader> create(Display* display, int bus_fd, std::byte* region_base,
                                                x11::PixelGrabber& fallback);
  ~BusImageReader();
  BusImageReader(const BusImageReader&) = delete;
  BusImageReader& operator=(const BusImageReader&) = delete;

  // Rows [y, y + height) of window `w`, columns [x, x + width) (window coordinates; x and y may be
  // -border: GetImage reaches the window's outside edges), into the region at `region_offset`
  // (the first byte of the first row), packed at width * 4 bytes per row.
  std::expected<void, std::string> read_rows(Window w, std::int32_t x, std::int32_t width, std::int32_t y,
                                             std::int32_t height, std::uint64_t region_offset);
  [[nodiscard]] bool zero_copy() const { return segment_ != 0; }
  [[nodiscard]] std::uint64_t copies() const { return copied_bytes_; }      // bytes memcpy'd (fallback)
  [[nodiscard]] std::uint64_t server_bytes() const { return server_bytes_; } // bytes the X server wrote

 private:
  BusImageReader(Display* display, std::byte* base, x11::PixelGrabber& fallback)
      : display_(display), base_(base), fallback_(fallback) {}

  Display* display_;
  std::byte* base_;
  x11::PixelGrabber& fallback_;
  std::uint32_t segment_ = 0;  // xcb_shm_seg_t, 0: not attached
  std::uint64_t copied_bytes_ = 0;
  std::uint64_t server_bytes_ = 0;
};

}  // namespace vitrine::appserver::surface
