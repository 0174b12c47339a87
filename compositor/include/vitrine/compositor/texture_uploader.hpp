// Keeps one GL texture equal to a caller-owned desktop framebuffer by uploading only damage.
//
// Paths (chosen by create(), reported by path()):
//   kPersistentPbo - GL 4.4 / ARB_buffer_storage: a pixel-unpack buffer mapped once
//                    (persistent + coherent), used as a ring of 3 segments, each guarded by
//                    a fence. Damaged rectangles are memcpy'd row by row into the segment
//                    (the one CPU copy) and glTexSubImage2D'd from it. The CPU waits only if
//                    the GPU is still reading a segment 3 uploads old (counted: cpu_waits).
//   kOrphanPbo     - no buffer_storage: glBufferData(NULL) orphans the buffer each upload so
//                    the driver hands out fresh memory instead of stalling, then map/copy/unmap.
//   kClientMemory  - no PBO: glTexSubImage2D straight from the caller's memory, with
//                    GL_UNPACK_ROW_LENGTH = stride so that no rectangle is repacked. Window
//                    surfaces (Compositor::upload_surface) always upload this way, through the
//                    same routine (src/gl_upload.hpp).
//   kFullFrame     - the naive baseline of bench_compositor: glTexImage2D of the whole frame
//                    on every upload, ignoring damage.
// And the zero-copy case: map_framebuffer() returns a framebuffer that lives in a persistently
// mapped PBO; a producer (FreeRDP's gdi_init_ex buffer) decodes straight into it and upload()
// of that source copies nothing on the CPU (ROW_LENGTH/SKIP_* select the rectangles).
//
// Contract: the compositor's GL context is current on the calling thread for every call
// (Compositor's methods make it current; with several contexts in a process, calling an
// uploader while another context is current would touch that context's objects).
// Damage is in desktop coordinates and clipped to the source; the texture has the source's
// size (a size change re-creates it and uploads the whole frame).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "vitrine/compositor/damage_region.hpp"
#include "vitrine/compositor/error.hpp"
#include "vitrine/compositor/pixel_source.hpp"

namespace vitrine::compositor {

// A framebuffer in upload memory (map_framebuffer()): the producer writes through `pixels`,
// the compositor reads through `source` (the same bytes).
struct MappedFramebuffer {
  std::byte* pixels = nullptr;
  PixelSource source;
};

enum class UploadPath : std::uint8_t { kAuto, kPersistentPbo, kOrphanPbo, kClientMemory, kFullFrame };

struct UploadStats {
  std::int64_t bytes_damaged = 0;   // pixels in the clipped damage * 4
  std::int64_t bytes_uploaded = 0;  // bytes handed to GL (after the rectangle cap)
  std::int64_t rects = 0;           // glTexSubImage2D calls
  std::int64_t cpu_waits = 0;       // uploads that had to wait for the GPU to free a segment
  bool merged = false;              // the rectangle cap merged the damage to its bounding box
  bool full_frame = false;          // texture (re)created: whole frame uploaded
};

class TextureUploader {
 public:
  static constexpr std::size_t kDefaultMaxRects = 128;

  // Needs a current GL 3.3 context. kAuto picks kPersistentPbo, else kOrphanPbo.
  static Result<std::unique_ptr<TextureUploader>> create(UploadPath path = UploadPath::kAuto,
                                                         std::size_t max_rects = kDefaultMaxRects);
  ~TextureUploader();
  TextureUploader(const TextureUploader&) = delete;
  TextureUploader& operator=(const TextureUploader&) = delete;

  // Makes the texture equal to `source` inside `damage` (desktop coordinates).
  Result<UploadStats> upload(const PixelSource& source, const DamageRegion& damage);

  // A width x height framebuffer (`stride` bytes per row, 0 = width * 4; a multiple of 4, at
  // least width * 4: FreeRDP may ask for padded rows) in persistently mapped upload memory,
  // owned by this uploader and valid until the next map_framebuffer() or destruction.
  // Needs GL 4.4 / ARB_buffer_storage (Errc::kGl otherwise). Writers may race an upload in
  // flight: the next upload of that damage repairs it, as with any framebuffer.
  Result<MappedFramebuffer> map_framebuffer(std::int32_t width, std::int32_t height, std::size_t stride = 0);
  // Blocks until the GPU has read every upload issued so far (strict producers, tests).
  void wait_idle();

  [[nodiscard]] UploadPath path() const { return path_; }
  [[nodiscard]] std::uint32_t texture() const { return texture_; }  // GL texture name
  [[nodiscard]] std::int32_t width() const { return width_; }
  [[nodiscard]] std::int32_t height() const { return height_; }

 private:
  TextureUploader() = default;
  Result<void> ensure_texture(const PixelSource& source, bool& recreated);
  Result<void> ensure_ring(std::size_t segment_bytes);
  void upload_from_client(const PixelSource& source, const DamageRegion& damage, UploadStats& stats);
  Result<void> upload_via_ring(const PixelSource& source, const DamageRegion& damage, UploadStats& stats);
  Result<void> upload_via_orphan(const PixelSource& source, const DamageRegion& damage, UploadStats& stats);
  void upload_from_framebuffer(const DamageRegion& damage, UploadStats& stats);

  static constexpr int kSegments = 3;
  UploadPath path_ = UploadPath::kAuto;
  std::size_t max_rects_ = kDefaultMaxRects;
  std::uint32_t texture_ = 0;
  std::int32_t width_ = 0;
  std::int32_t height_ = 0;
  // Streaming ring (kPersistentPbo) or the orphaned buffer (kOrphanPbo).
  std::uint32_t pbo_ = 0;
  std::byte* ring_ = nullptr;
  std::size_t segment_bytes_ = 0;
  int segment_ = 0;
  void* fences_[kSegments] = {};  // GLsync of the last upload out of each segment
  // map_framebuffer()
  std::uint32_t fb_pbo_ = 0;
  std::byte* fb_ = nullptr;
  std::int32_t fb_width_ = 0;
  std::int32_t fb_height_ = 0;
  std::size_t fb_stride_ = 0;
  void* fb_fence_ = nullptr;
};

}  // namespace vitrine::compositor
