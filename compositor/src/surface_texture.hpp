// Private: the texture of one window surface (Compositor::attach_surface): the window's own
// pixels, width x height in window coordinates, kept equal to the damaged rectangles of a
// caller-owned PixelSource (the bus surface in shared memory) by gl::upload_from_client — one
// GL copy per damaged byte straight from that memory, no staging buffer, no CPU wait.
//
// Contract: the compositor's GL context is current for create(), upload() and destruction
// (Compositor makes it current; release() drops the texture name when it cannot).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vitrine/compositor/damage_region.hpp"
#include "vitrine/compositor/error.hpp"
#include "vitrine/compositor/pixel_source.hpp"
#include "vitrine/compositor/texture_uploader.hpp"

namespace vitrine::compositor {

class SurfaceTexture {
 public:
  // Errc::kInvalidArgument outside 1..kMaxSize, kLimit past GL_MAX_TEXTURE_SIZE, kGl when GL
  // cannot allocate it. Contents are undefined until the first upload().
  static Result<SurfaceTexture> create(std::int32_t width, std::int32_t height);
  static constexpr std::int32_t kMaxSize = 16384;  // Scene::kMaxWindowSize

  SurfaceTexture(SurfaceTexture&& other) noexcept;
  SurfaceTexture& operator=(SurfaceTexture&& other) noexcept;
  SurfaceTexture(const SurfaceTexture&) = delete;
  SurfaceTexture& operator=(const SurfaceTexture&) = delete;
  ~SurfaceTexture();

  struct Damage {
    WindowRegion region;          // what to upload, window coordinates, inside the surface
    std::int64_t pixels = 0;      // damaged pixels before the merge (bounding box if merged)
    bool merged = false;          // more than max_rects: the bounding box instead
  };
  // `rects` (window coordinates, untrusted: any values) clipped to a width x height surface,
  // empty ones skipped; more than `max_rects` non-empty ones (or a union banded into more) merge
  // to their bounding box, which also bounds the cost of a flood of rectangles to O(n). Pure: no
  // GL, so tests and fuzzers reach it.
  static Damage clip_damage(std::span<const WindowRect> rects, std::int32_t width, std::int32_t height,
                            std::size_t max_rects);

  // Uploads `damage` (from clip_damage for this size) of `pixels` (same size as the surface,
  // checked by the caller). Errc::kGl if GL reported an error.
  Result<UploadStats> upload(const PixelSource& pixels, const Damage& damage);

  // Forgets the texture name without deleting it: for when the context cannot be made current
  // (deleting the name in another current context would delete that context's texture).
  void release() { texture_ = 0; }

  [[nodiscard]] std::uint32_t texture() const { return texture_; }
  [[nodiscard]] std::int32_t width() const { return width_; }
  [[nodiscard]] std::int32_t height() const { return height_; }

  // VITRINE_DEBUG_DAMAGE: what was uploaded since the window was last drawn (window coordinates).
  WindowRegion uploaded_since_draw;

 private:
  SurfaceTexture() = default;
  std::uint32_t texture_ = 0;
  std::int32_t width_ = 0;
  std::int32_t height_ = 0;
};

}  // namespace vitrine::compositor
