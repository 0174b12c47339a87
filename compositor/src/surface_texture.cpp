#include "surface_texture.hpp"

#include <epoxy/gl.h>

#include <algorithm>
#include <string>
#include <utility>

#include "gl_upload.hpp"

namespace vitrine::compositor {

Result<SurfaceTexture> SurfaceTexture::create(std::int32_t width, std::int32_t height) {
  if (width < 1 || height < 1 || width > kMaxSize || height > kMaxSize) {
    return fail(Errc::kInvalidArgument, "surface " + std::to_string(width) + "x" + std::to_string(height) +
                                            " outside 1.." + std::to_string(kMaxSize));
  }
  SurfaceTexture s;
  if (auto ok = gl::allocate_texture(s.texture_, width, height, "window surface"); !ok) {
    return std::unexpected(ok.error());  // `s` deletes the name it may have generated
  }
  s.width_ = width;
  s.height_ = height;
  return s;
}

SurfaceTexture::SurfaceTexture(SurfaceTexture&& o) noexcept
    : uploaded_since_draw(std::move(o.uploaded_since_draw)),
      texture_(std::exchange(o.texture_, 0)),
      width_(o.width_),
      height_(o.height_) {}

SurfaceTexture& SurfaceTexture::operator=(SurfaceTexture&& o) noexcept {
  if (this != &o) {
    if (texture_ != 0) glDeleteTextures(1, &texture_);
    uploaded_since_draw = std::move(o.uploaded_since_draw);
    texture_ = std::exchange(o.texture_, 0);
    width_ = o.width_;
    height_ = o.height_;
  }
  return *this;
}

SurfaceTexture::~SurfaceTexture() {
  if (texture_ != 0) glDeleteTextures(1, &texture_);
}

SurfaceTexture::Damage SurfaceTexture::clip_damage(std::span<const WindowRect> rects, std::int32_t width,
                                                   std::int32_t height, std::size_t max_rects) {
  if (max_rects == 0) max_rects = 1;
  const WindowRect bounds{0, 0, width, height};
  Damage d;
  std::size_t count = 0;
  std::int32_t x1 = width, y1 = height, x2 = 0, y2 = 0;
  for (const WindowRect& r : rects) {
    const WindowRect c = r.intersect(bounds);  // 64-bit edges: no overflow on hostile values
    if (c.empty()) continue;
    ++count;
    x1 = std::min(x1, c.x);
    y1 = std::min(y1, c.y);
    x2 = std::max(x2, c.x + c.width);
    y2 = std::max(y2, c.y + c.height);
  }
  if (count == 0) return d;
  if (count > max_rects) {
    // Past the cap the union is not built at all: pixman's union of n rectangles one by one is
    // O(n^2), and the result would be merged to this box anyway.
    d.region.add(WindowRect{x1, y1, x2 - x1, y2 - y1});
    d.pixels = d.region.area();
    d.merged = true;
    return d;
  }
  for (const WindowRect& r : rects) d.region.add(r.intersect(bounds));
  d.pixels = d.region.area();  // overlaps counted once: each damaged byte is uploaded once
  d.merged = d.region.cap_rects(max_rects);
  return d;
}

Result<UploadStats> SurfaceTexture::upload(const PixelSource& pixels, const Damage& damage) {
  UploadStats stats;
  stats.merged = damage.merged;
  stats.bytes_damaged = damage.pixels * static_cast<std::int64_t>(kBytesPerPixel);
  if (damage.region.empty()) return stats;
  gl::upload_from_client(texture_, pixels, damage.region.boxes(), stats);
  if (auto ok = gl::check_errors("surface upload"); !ok) return std::unexpected(ok.error());
  return stats;
}

}  // namespace vitrine::compositor
