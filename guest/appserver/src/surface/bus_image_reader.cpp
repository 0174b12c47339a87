#include "bus_image_reader.hpp"

#include <X11/Xlib-xcb.h>
#include <fcntl.h>
#include <unistd.h>
#include <xcb/shm.h>
#include <xcb/xcb.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "vitrine/base/log.hpp"

namespace vitrine::appserver::surface {

std::unique_ptr<BusImageReader> BusImageReader::create(Display* display, int bus_fd, std::byte* region_base,
                                                       x11::PixelGrabber& fallback) {
  std::unique_ptr<BusImageReader> r(new BusImageReader(display, region_base, fallback));
  if (bus_fd < 0) return r;
  xcb_connection_t* c = XGetXCBConnection(display);
  const xcb_query_extension_reply_t* ext = xcb_get_extension_data(c, &xcb_shm_id);
  if (ext == nullptr || !ext->present) {
    base::log_info("surfaces: the X server has no MIT-SHM: one copy per pixel");
    return r;
  }
  auto* version = xcb_shm_query_version_reply(c, xcb_shm_query_version(c), nullptr);
  const bool fd_passing = version != nullptr && (version->major_version > 1 || version->minor_version >= 2);
  std::free(version);
  if (!fd_passing) {
    base::log_info("surfaces: the X server's MIT-SHM cannot attach an fd (before 1.2): one copy per pixel");
    return r;
  }
  // xcb closes the fd it sends: give it a duplicate.
  const int fd = ::fcntl(bus_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return r;
  const xcb_shm_seg_t seg = xcb_generate_id(c);
  xcb_generic_error_t* error = xcb_request_check(c, xcb_shm_attach_fd_checked(c, seg, fd, 0));
  if (error != nullptr) {
    base::log_info("surfaces: the X server refused to map the bus (error {}): one copy per pixel",
                   int(error->error_code));
    std::free(error);
    return r;
  }
  r->segment_ = seg;
  return r;
}

BusImageReader::~BusImageReader() {
  if (segment_ != 0) {
    xcb_connection_t* c = XGetXCBConnection(display_);
    xcb_shm_detach(c, segment_);
    xcb_flush(c);
  }
}

std::expected<void, std::string> BusImageReader::read_rows(Window w, std::int32_t x, std::int32_t width, std::int32_t y,
                                                           std::int32_t height, std::uint64_t region_offset) {
  const std::size_t row = static_cast<std::size_t>(width) * 4;
  if (segment_ != 0 && region_offset + row * static_cast<std::size_t>(height) <= UINT32_MAX) {
    xcb_connection_t* c = XGetXCBConnection(display_);
    // Xlib may hold requests in its own buffer: they must reach the server before ours.
    XFlush(display_);
    auto cookie = xcb_shm_get_image(c, static_cast<xcb_drawable_t>(w), static_cast<std::int16_t>(x), static_cast<std::int16_t>(y),
                                    static_cast<std::uint16_t>(width), static_cast<std::uint16_t>(height), ~0u,
                                    XCB_IMAGE_FORMAT_Z_PIXMAP, segment_, static_cast<std::uint32_t>(region_offset));
    xcb_generic_error_t* error = nullptr;
    auto* reply = xcb_shm_get_image_reply(c, cookie, &error);  // the pixels are in place once it comes
    if (reply == nullptr) {
      const int code = error != nullptr ? error->error_code : -1;
      std::free(error);
      return std::unexpected("ShmGetImage of window " + std::to_string(w) + " failed (X error " + std::to_string(code) + ")");
    }
    std::free(reply);
    server_bytes_ += row * static_cast<std::size_t>(height);
    return {};
  }
  auto image = fallback_.grab_window(w, Rect{x, y, width, height});
  if (!image) return std::unexpected(image.error());
  for (std::int32_t r = 0; r < height; ++r)
    std::memcpy(base_ + region_offset + static_cast<std::size_t>(r) * row,
                image->data + static_cast<std::size_t>(r) * static_cast<std::size_t>(image->stride), row);
  copied_bytes_ += row * static_cast<std::size_t>(height);
  return {};
}

}  // namespace vitrine::appserver::surface
