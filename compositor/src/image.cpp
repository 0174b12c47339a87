#include "vitrine/compositor/image.hpp"

#include <spng.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace vitrine::compositor {

Image Image::blank(std::int32_t width, std::int32_t height) {
  Image img;
  img.width = width > 0 ? width : 0;
  img.height = height > 0 ? height : 0;
  img.pixels.assign(img.stride() * static_cast<std::size_t>(img.height), std::byte{0});
  return img;
}

std::uint32_t Image::at(std::int32_t x, std::int32_t y) const {
  std::uint32_t v = 0;
  std::memcpy(&v, pixels.data() + static_cast<std::size_t>(y) * stride() + static_cast<std::size_t>(x) * 4, 4);
  return v;  // little-endian B,G,R,A bytes read as 0xAARRGGBB
}

Image crop(const PixelSource& source, const DesktopRect& rect) {
  Image img = Image::blank(rect.width, rect.height);
  for (std::int32_t y = 0; y < img.height; ++y) {
    for (std::int32_t x = 0; x < img.width; ++x) {
      std::byte* dst = img.pixels.data() + static_cast<std::size_t>(y) * img.stride() + static_cast<std::size_t>(x) * 4;
      const std::int64_t sx = std::int64_t{rect.x} + x;
      const std::int64_t sy = std::int64_t{rect.y} + y;
      if (sx >= 0 && sy >= 0 && sx < source.width && sy < source.height) {
        std::memcpy(dst, source.pixel(static_cast<std::int32_t>(sx), static_cast<std::int32_t>(sy)), 3);
      }
      dst[3] = std::byte{0xff};
    }
  }
  return img;
}

Result<void> write_png(const Image& image, const std::string& path) {
  if (image.width <= 0 || image.height <= 0 || image.pixels.size() != image.stride() * static_cast<std::size_t>(image.height)) {
    return fail(Errc::kInvalidArgument, "image " + std::to_string(image.width) + "x" + std::to_string(image.height));
  }
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) * 3);
  for (std::size_t i = 0, n = rgb.size() / 3; i < n; ++i) {
    rgb[i * 3 + 0] = static_cast<std::uint8_t>(image.pixels[i * 4 + 2]);
    rgb[i * 3 + 1] = static_cast<std::uint8_t>(image.pixels[i * 4 + 1]);
    rgb[i * 3 + 2] = static_cast<std::uint8_t>(image.pixels[i * 4 + 0]);
  }
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) return fail(Errc::kIo, "cannot open " + path + ": " + std::strerror(errno), errno);
  std::unique_ptr<spng_ctx, void (*)(spng_ctx*)> ctx(spng_ctx_new(SPNG_CTX_ENCODER), &spng_ctx_free);
  if (!ctx) return fail(Errc::kIo, "spng_ctx_new failed");
  spng_ihdr ihdr{};
  ihdr.width = static_cast<std::uint32_t>(image.width);
  ihdr.height = static_cast<std::uint32_t>(image.height);
  ihdr.bit_depth = 8;
  ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
  int rc = spng_set_png_file(ctx.get(), file.get());
  if (rc == 0) rc = spng_set_ihdr(ctx.get(), &ihdr);
  if (rc == 0) rc = spng_encode_image(ctx.get(), rgb.data(), rgb.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  if (rc != 0) return fail(Errc::kIo, "PNG encode of " + path + ": " + spng_strerror(rc), rc);
  if (std::fflush(file.get()) != 0) return fail(Errc::kIo, "write " + path + ": " + std::strerror(errno), errno);
  return {};
}

}  // namespace vitrine::compositor
