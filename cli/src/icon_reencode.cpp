#include "icon_reencode.hpp"

#include <spng.h>

#include <cstdlib>
#include <memory>

#include <fmt/format.h>

namespace vitrine::cli {
namespace {

struct CtxFree {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};
using Ctx = std::unique_ptr<spng_ctx, CtxFree>;

std::string spng_message(const char* what, int rc) { return fmt::format("{}: {}", what, spng_strerror(rc)); }

}  // namespace

std::expected<std::vector<std::byte>, std::string> reencode_icon_png(std::span<const std::byte> guest_png,
                                                                     const IconLimits& limits) {
  if (guest_png.size() > limits.max_png_bytes)
    return std::unexpected(fmt::format("icon of {} bytes (at most {})", guest_png.size(), limits.max_png_bytes));
  Ctx dec(spng_ctx_new(0));
  if (!dec) return std::unexpected(std::string("spng_ctx_new failed"));
  // Ancillary chunks are skipped, not kept: only pixels go on. Limits bound the work a crafted
  // file can ask for (a 1x1 PNG may declare huge text or zTXt chunks).
  spng_set_crc_action(dec.get(), SPNG_CRC_ERROR, SPNG_CRC_ERROR);
  if (int rc = spng_set_image_limits(dec.get(), limits.max_extent, limits.max_extent); rc != 0)
    return std::unexpected(spng_message("image limits", rc));
  if (int rc = spng_set_chunk_limits(dec.get(), 64 * 1024, 1u << 20); rc != 0)
    return std::unexpected(spng_message("chunk limits", rc));
  if (int rc = spng_set_png_buffer(dec.get(), guest_png.data(), guest_png.size()); rc != 0)
    return std::unexpected(spng_message("png buffer", rc));
  spng_ihdr ihdr{};
  if (int rc = spng_get_ihdr(dec.get(), &ihdr); rc != 0) return std::unexpected(spng_message("PNG header", rc));
  std::size_t size = 0;
  if (int rc = spng_decoded_image_size(dec.get(), SPNG_FMT_RGBA8, &size); rc != 0)
    return std::unexpected(spng_message("decoded size", rc));
  std::vector<unsigned char> pixels(size);
  if (int rc = spng_decode_image(dec.get(), pixels.data(), pixels.size(), SPNG_FMT_RGBA8, SPNG_DECODE_TRNS); rc != 0)
    return std::unexpected(spng_message("PNG data", rc));

  Ctx enc(spng_ctx_new(SPNG_CTX_ENCODER));
  if (!enc) return std::unexpected(std::string("spng_ctx_new (encoder) failed"));
  spng_set_option(enc.get(), SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr out{};
  out.width = ihdr.width;
  out.height = ihdr.height;
  out.bit_depth = 8;
  out.color_type = SPNG_COLOR_TYPE_TRUECOLOR_ALPHA;
  if (int rc = spng_set_ihdr(enc.get(), &out); rc != 0) return std::unexpected(spng_message("encode header", rc));
  if (int rc = spng_encode_image(enc.get(), pixels.data(), pixels.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE); rc != 0)
    return std::unexpected(spng_message("encode", rc));
  std::size_t png_size = 0;
  int rc = 0;
  std::unique_ptr<void, decltype(&std::free)> png(spng_get_png_buffer(enc.get(), &png_size, &rc), &std::free);
  if (!png) return std::unexpected(spng_message("encoded buffer", rc));
  const auto* bytes = static_cast<const std::byte*>(png.get());
  return std::vector<std::byte>(bytes, bytes + png_size);
}

}  // namespace vitrine::cli
