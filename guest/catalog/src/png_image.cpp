#include "vitrine/catalog/png_image.hpp"

#include <spng.h>

#include <cstdlib>
#include <memory>

#include <fmt/format.h>

namespace vitrine::catalog {
namespace {

struct CtxDeleter {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};
using Ctx = std::unique_ptr<spng_ctx, CtxDeleter>;

}  // namespace

Result<RgbaImage> decode_png(std::span<const std::byte> png, std::uint32_t max_dimension) {
  Ctx ctx(spng_ctx_new(0));
  if (!ctx) return fail(Errc::kSystem, "spng_ctx_new failed");
  // Chunk limits: icons have no business carrying megabytes of text or ICC data.
  spng_set_chunk_limits(ctx.get(), 4u << 20, 4u << 20);
  // Limits are checked against IHDR before any allocation.
  spng_set_image_limits(ctx.get(), max_dimension, max_dimension);
  if (int rc = spng_set_png_buffer(ctx.get(), png.data(), png.size()); rc != 0)
    return fail(Errc::kMalformed, fmt::format("PNG: {}", spng_strerror(rc)));
  spng_ihdr ihdr{};
  if (int rc = spng_get_ihdr(ctx.get(), &ihdr); rc != 0) {
    if (rc == SPNG_EWIDTH || rc == SPNG_EHEIGHT || rc == SPNG_EUSER_WIDTH || rc == SPNG_EUSER_HEIGHT)
      return fail(Errc::kTooLarge, fmt::format("PNG: image larger than {}x{} ({})", max_dimension, max_dimension,
                                               spng_strerror(rc)));
    return fail(Errc::kMalformed, fmt::format("PNG header: {}", spng_strerror(rc)));
  }
  std::size_t size = 0;
  if (int rc = spng_decoded_image_size(ctx.get(), SPNG_FMT_RGBA8, &size); rc != 0)
    return fail(Errc::kMalformed, fmt::format("PNG: {}", spng_strerror(rc)));
  RgbaImage image;
  image.width = ihdr.width;
  image.height = ihdr.height;
  image.pixels.resize(size);
  if (int rc = spng_decode_image(ctx.get(), image.pixels.data(), size, SPNG_FMT_RGBA8, SPNG_DECODE_TRNS); rc != 0)
    return fail(Errc::kMalformed, fmt::format("PNG data: {}", spng_strerror(rc)));
  return image;
}

Result<std::vector<std::byte>> encode_png(const RgbaImage& image) {
  if (image.width == 0 || image.height == 0 ||
      image.pixels.size() != std::size_t{image.width} * image.height * 4)
    return fail(Errc::kMalformed, fmt::format("RGBA image {}x{} with {} bytes of pixels", image.width, image.height,
                                              image.pixels.size()));
  Ctx ctx(spng_ctx_new(SPNG_CTX_ENCODER));
  if (!ctx) return fail(Errc::kSystem, "spng_ctx_new failed");
  spng_set_option(ctx.get(), SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{};
  ihdr.width = image.width;
  ihdr.height = image.height;
  ihdr.bit_depth = 8;
  ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR_ALPHA;
  if (int rc = spng_set_ihdr(ctx.get(), &ihdr); rc != 0)
    return fail(Errc::kMalformed, fmt::format("PNG encode: {}", spng_strerror(rc)));
  if (int rc = spng_encode_image(ctx.get(), image.pixels.data(), image.pixels.size(), SPNG_FMT_PNG,
                                 SPNG_ENCODE_FINALIZE);
      rc != 0)
    return fail(Errc::kMalformed, fmt::format("PNG encode: {}", spng_strerror(rc)));
  std::size_t len = 0;
  int err = 0;
  void* buf = spng_get_png_buffer(ctx.get(), &len, &err);
  if (!buf) return fail(Errc::kSystem, fmt::format("PNG encode: {}", spng_strerror(err)));
  // The buffer belongs to us now (spng docs: "the user is responsible for freeing it").
  std::unique_ptr<void, decltype(&std::free)> owned(buf, &std::free);
  auto* bytes = static_cast<const std::byte*>(buf);
  return std::vector<std::byte>(bytes, bytes + len);
}

}  // namespace vitrine::catalog
