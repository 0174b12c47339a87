// RGBA images and their PNG form (libspng). Icons cross the bus as PNG; the decoder bounds
// dimensions and chunk sizes so that a hostile file cannot make it allocate without limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "vitrine/rdpmux/catalog_error.hpp"

namespace vitrine::catalog {

inline constexpr std::uint32_t kMaxIconDimension = 1024;  // pixels per side accepted for icons

// 8-bit RGBA, rows top to bottom, no padding (stride = width * 4), straight (not premultiplied)
// alpha as PNG stores it.
struct RgbaImage {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint8_t> pixels;
};

// Decodes any PNG (palette, grey, 16-bit, with tRNS) to RGBA8. kMalformed on a bad file;
// kTooLarge when a side exceeds max_dimension.
Result<RgbaImage> decode_png(std::span<const std::byte> png, std::uint32_t max_dimension = kMaxIconDimension);

// Encodes RGBA8 as PNG (colour type 6, 8 bits). kMalformed when pixels.size() != w*h*4 or a side is 0.
Result<std::vector<std::byte>> encode_png(const RgbaImage& image);

}  // namespace vitrine::catalog
