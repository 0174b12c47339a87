// An owned BGRA8888 image (read-back of a window, reference frames in tests) and PNG output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vitrine/compositor/error.hpp"
#include "vitrine/compositor/pixel_source.hpp"

namespace vitrine::compositor {

struct Image {
  std::int32_t width = 0;
  std::int32_t height = 0;
  std::vector<std::byte> pixels;  // BGRA8888, rows top to bottom, stride = width * 4

  static Image blank(std::int32_t width, std::int32_t height);
  [[nodiscard]] std::size_t stride() const { return static_cast<std::size_t>(width) * kBytesPerPixel; }
  [[nodiscard]] PixelSource view() const { return {pixels.data(), width, height, stride()}; }
  [[nodiscard]] std::uint32_t at(std::int32_t x, std::int32_t y) const;  // 0xAARRGGBB
  friend bool operator==(const Image&, const Image&) = default;
};

// The `rect` part of `source` (desktop coordinates); pixels outside the source are opaque
// black, alpha is forced to 0xff (what a window shows for that rectangle).
Image crop(const PixelSource& source, const DesktopRect& rect);

// Writes an 8-bit RGB PNG with libspng. Errc::kIo on failure.
Result<void> write_png(const Image& image, const std::string& path);

}  // namespace vitrine::compositor
