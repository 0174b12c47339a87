// A caller-owned pixel buffer the compositor reads from: FreeRDP's GDI framebuffer today,
// shared window surfaces from the bus later. The compositor never owns or frees it and reads
// it only during the call it is passed to (present(), upload(), filter()).
#pragma once

#include <cstddef>
#include <cstdint>

#include "vitrine/compositor/geometry.hpp"

namespace vitrine::compositor {

// 32 bits per pixel, little-endian byte order in memory.
//   kBgra8888: bytes B,G,R,A (FreeRDP PIXEL_FORMAT_BGRA32, X11 ZPixmap depth 24/32,
//              GL_BGRA + GL_UNSIGNED_BYTE). Alpha is ignored: windows are opaque.
enum class PixelFormat : std::uint8_t { kBgra8888 };

inline constexpr std::size_t kBytesPerPixel = 4;

struct PixelSource {
  const std::byte* data = nullptr;  // first byte of pixel (0,0) in desktop coordinates
  std::int32_t width = 0;           // pixels
  std::int32_t height = 0;          // pixels
  std::size_t stride = 0;           // bytes from one row to the next, >= width * 4
  PixelFormat format = PixelFormat::kBgra8888;

  [[nodiscard]] DesktopRect bounds() const { return {0, 0, width, height}; }
  [[nodiscard]] const std::byte* pixel(std::int32_t x, std::int32_t y) const {
    return data + static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x) * kBytesPerPixel;
  }
  // Checks the contract above; the compositor refuses a source that fails it. The stride in
  // pixels must fit GL_UNPACK_ROW_LENGTH (a GLint): a larger one would be truncated, and GL would
  // walk rows that are not the caller's.
  [[nodiscard]] bool valid() const {
    return data != nullptr && width > 0 && height > 0 && width <= 16384 && height <= 16384 &&
           stride >= static_cast<std::size_t>(width) * kBytesPerPixel && stride % kBytesPerPixel == 0 &&
           stride / kBytesPerPixel <= 0x7fffffffu;
  }
};

}  // namespace vitrine::compositor
