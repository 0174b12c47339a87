#include "vitrine/compositor/texture_uploader.hpp"

#include <epoxy/gl.h>

#include <cstring>
#include <string>

#include "gl_upload.hpp"

namespace vitrine::compositor {
namespace {

constexpr GLuint64 kFenceTimeoutNs = 5'000'000'000;  // a GPU that needs longer is hung

GLsync as_sync(void* p) { return static_cast<GLsync>(p); }

bool has_buffer_storage() {
  return epoxy_gl_version() >= 44 || epoxy_has_gl_extension("GL_ARB_buffer_storage");
}

// Waits for a fence and deletes it. Returns whether the CPU had to block.
Result<bool> retire_fence(void*& fence) {
  if (fence == nullptr) return false;
  bool waited = false;
  // Poll first: in the common case the GPU finished this segment long ago.
  GLenum r = glClientWaitSync(as_sync(fence), 0, 0);
  if (r == GL_TIMEOUT_EXPIRED) {
    waited = true;
    r = glClientWaitSync(as_sync(fence), GL_SYNC_FLUSH_COMMANDS_BIT, kFenceTimeoutNs);
  }
  glDeleteSync(as_sync(fence));
  fence = nullptr;
  if (r == GL_WAIT_FAILED || r == GL_TIMEOUT_EXPIRED) return fail(Errc::kGl, "upload fence never signalled");
  return waited;
}

using gl::check_errors;
using gl::reset_unpack_state;
using gl::sub_image;

// Copies the rectangles of `damage` packed (row length = rectangle width) into `dst`.
// Returns the bytes written. The only CPU copy of the streaming paths.
std::size_t pack_rects(const PixelSource& source, const DamageRegion& damage, std::byte* dst) {
  std::size_t off = 0;
  for (const auto& b : damage.boxes()) {
    const std::size_t row = static_cast<std::size_t>(b.x2 - b.x1) * kBytesPerPixel;
    const std::byte* src = source.pixel(b.x1, b.y1);
    if (row == source.stride) {  // full-width rectangle: one memcpy
      std::memcpy(dst + off, src, row * static_cast<std::size_t>(b.y2 - b.y1));
      off += row * static_cast<std::size_t>(b.y2 - b.y1);
      continue;
    }
    for (std::int32_t y = b.y1; y < b.y2; ++y) {
      std::memcpy(dst + off, src, row);
      src += source.stride;
      off += row;
    }
  }
  return off;
}

// glTexSubImage2D of each packed rectangle from the bound unpack buffer at `base`.
void submit_packed(const DamageRegion& damage, std::size_t base, UploadStats& stats) {
  glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  std::size_t off = base;
  for (const auto& b : damage.boxes()) {
    sub_image(b, reinterpret_cast<const void*>(off));
    off += static_cast<std::size_t>(b.x2 - b.x1) * static_cast<std::size_t>(b.y2 - b.y1) * kBytesPerPixel;
    ++stats.rects;
  }
  stats.bytes_uploaded += static_cast<std::int64_t>(off - base);
}

}  // namespace

Result<std::unique_ptr<TextureUploader>> TextureUploader::create(UploadPath path, std::size_t max_rects) {
  if (epoxy_gl_version() < 33) return fail(Errc::kGl, "OpenGL 3.3 needed, have " + std::to_string(epoxy_gl_version()));
  if (path == UploadPath::kAuto) path = has_buffer_storage() ? UploadPath::kPersistentPbo : UploadPath::kOrphanPbo;
  if (path == UploadPath::kPersistentPbo && !has_buffer_storage()) {
    return fail(Errc::kGl, "persistent PBOs need GL 4.4 or GL_ARB_buffer_storage");
  }
  std::unique_ptr<TextureUploader> u(new TextureUploader());
  u->path_ = path;
  u->max_rects_ = max_rects == 0 ? 1 : max_rects;
  return u;
}

TextureUploader::~TextureUploader() {
  for (auto& f : fences_) {
    if (f != nullptr) glDeleteSync(as_sync(f));
  }
  if (fb_fence_ != nullptr) glDeleteSync(as_sync(fb_fence_));
  // Deleting a buffer unmaps it (GL 4.4 section 6.3.1).
  if (pbo_ != 0) glDeleteBuffers(1, &pbo_);
  if (fb_pbo_ != 0) glDeleteBuffers(1, &fb_pbo_);
  if (texture_ != 0) glDeleteTextures(1, &texture_);
}

Result<void> TextureUploader::ensure_texture(const PixelSource& source, bool& recreated) {
  recreated = false;
  if (texture_ != 0 && width_ == source.width && height_ == source.height) return {};
  if (auto ok = gl::allocate_texture(texture_, source.width, source.height, "desktop texture"); !ok) return ok;
  width_ = source.width;
  height_ = source.height;
  recreated = true;
  return {};
}

Result<void> TextureUploader::ensure_ring(std::size_t segment_bytes) {
  if (pbo_ != 0 && segment_bytes <= segment_bytes_) return {};
  for (auto& f : fences_) {
    if (auto r = retire_fence(f); !r) return std::unexpected(r.error());
  }
  if (pbo_ != 0) glDeleteBuffers(1, &pbo_);
  glGenBuffers(1, &pbo_);
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, pbo_);
  const auto total = static_cast<GLsizeiptr>(segment_bytes * kSegments);
  // Persistent + coherent: CPU writes become visible to the GPU without explicit flushes;
  // the fences alone keep the CPU from overwriting what the GPU still reads.
  const GLbitfield flags = GL_MAP_WRITE_BIT | GL_MAP_PERSISTENT_BIT | GL_MAP_COHERENT_BIT;
  glBufferStorage(GL_PIXEL_UNPACK_BUFFER, total, nullptr, flags);
  ring_ = static_cast<std::byte*>(glMapBufferRange(GL_PIXEL_UNPACK_BUFFER, 0, total, flags));
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
  if (ring_ == nullptr) {
    glDeleteBuffers(1, &pbo_);
    pbo_ = 0;
    (void)check_errors("glMapBufferRange");
    return fail(Errc::kGl, "could not map the persistent upload ring of " + std::to_string(total) + " bytes");
  }
  segment_bytes_ = segment_bytes;
  segment_ = 0;
  return {};
}

Result<UploadStats> TextureUploader::upload(const PixelSource& source, const DamageRegion& damage) {
  if (!source.valid()) {
    return fail(Errc::kInvalidArgument, "pixel source " + std::to_string(source.width) + "x" +
                                            std::to_string(source.height) + " stride " +
                                            std::to_string(source.stride) + " is not valid");
  }
  UploadStats stats;
  bool recreated = false;
  if (auto ok = ensure_texture(source, recreated); !ok) return std::unexpected(ok.error());
  DamageRegion d;
  if (recreated) {
    d.add(source.bounds());
    stats.full_frame = true;
  } else {
    d.assign(damage);
    d.intersect(source.bounds());
  }
  stats.bytes_damaged = d.area() * static_cast<std::int64_t>(kBytesPerPixel);
  glBindTexture(GL_TEXTURE_2D, texture_);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);

  if (path_ == UploadPath::kFullFrame) {
    glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, static_cast<GLint>(source.stride / kBytesPerPixel));
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, source.width, source.height, 0, GL_BGRA, GL_UNSIGNED_BYTE, source.data);
    stats.bytes_uploaded = std::int64_t{source.width} * source.height * static_cast<std::int64_t>(kBytesPerPixel);
    stats.rects = 1;
    reset_unpack_state();
    if (auto ok = check_errors("full-frame upload"); !ok) return std::unexpected(ok.error());
    return stats;
  }
  if (d.empty()) return stats;
  stats.merged = d.cap_rects(max_rects_);

  const bool from_framebuffer =
      fb_ != nullptr && source.data == fb_ && source.width == fb_width_ && source.height == fb_height_ &&
      source.stride == fb_stride_;
  Result<void> ok;
  if (d.rect_count() == 1 && d.bounds() == source.bounds()) {
    // The whole frame changed: re-specify the texture instead of sub-updating it. The driver
    // hands out fresh storage rather than waiting for draws that still sample the old one,
    // and the pixels are copied once, by GL, from where they are (no staging copy).
    if (from_framebuffer) {
      glBindBuffer(GL_PIXEL_UNPACK_BUFFER, fb_pbo_);
    } else {
      glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
    }
    glPixelStorei(GL_UNPACK_ROW_LENGTH, static_cast<GLint>(source.stride / kBytesPerPixel));
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, source.width, source.height, 0, GL_BGRA, GL_UNSIGNED_BYTE,
                 from_framebuffer ? nullptr : source.data);
    if (from_framebuffer) {
      if (fb_fence_ != nullptr) glDeleteSync(as_sync(fb_fence_));
      fb_fence_ = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
    }
    stats.bytes_uploaded = std::int64_t{source.width} * source.height * static_cast<std::int64_t>(kBytesPerPixel);
    stats.rects = 1;
  } else if (from_framebuffer) {
    upload_from_framebuffer(d, stats);
  } else if (path_ == UploadPath::kPersistentPbo) {
    ok = upload_via_ring(source, d, stats);
  } else if (path_ == UploadPath::kOrphanPbo) {
    ok = upload_via_orphan(source, d, stats);
  } else {
    upload_from_client(source, d, stats);
  }
  reset_unpack_state();
  if (!ok) return std::unexpected(ok.error());
  if (auto done = check_errors("damage upload"); !done) return std::unexpected(done.error());
  return stats;
}

void TextureUploader::upload_from_client(const PixelSource& source, const DamageRegion& damage, UploadStats& stats) {
  gl::upload_from_client(texture_, source, damage.boxes(), stats);  // the routine window surfaces use too
}

Result<void> TextureUploader::upload_via_ring(const PixelSource& source, const DamageRegion& damage,
                                              UploadStats& stats) {
  const auto frame_bytes = static_cast<std::size_t>(width_) * static_cast<std::size_t>(height_) * kBytesPerPixel;
  if (auto ok = ensure_ring(frame_bytes); !ok) return ok;  // the damage never exceeds one frame
  auto waited = retire_fence(fences_[segment_]);
  if (!waited) return std::unexpected(waited.error());
  if (*waited) ++stats.cpu_waits;
  const std::size_t base = static_cast<std::size_t>(segment_) * segment_bytes_;
  pack_rects(source, damage, ring_ + base);
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, pbo_);
  submit_packed(damage, base, stats);
  fences_[segment_] = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
  segment_ = (segment_ + 1) % kSegments;
  return {};
}

Result<void> TextureUploader::upload_via_orphan(const PixelSource& source, const DamageRegion& damage,
                                                UploadStats& stats) {
  const auto bytes = static_cast<std::size_t>(damage.area()) * kBytesPerPixel;
  if (pbo_ == 0) glGenBuffers(1, &pbo_);
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, pbo_);
  // Orphaning: new storage for this upload; the driver keeps the old one alive until the GPU
  // has read it, so the map below never waits for the previous frame's transfer.
  glBufferData(GL_PIXEL_UNPACK_BUFFER, static_cast<GLsizeiptr>(bytes), nullptr, GL_STREAM_DRAW);
  auto* dst = static_cast<std::byte*>(glMapBufferRange(GL_PIXEL_UNPACK_BUFFER, 0, static_cast<GLsizeiptr>(bytes),
                                                       GL_MAP_WRITE_BIT | GL_MAP_INVALIDATE_BUFFER_BIT));
  if (dst == nullptr) return fail(Errc::kGl, "glMapBufferRange of " + std::to_string(bytes) + " upload bytes failed");
  pack_rects(source, damage, dst);
  if (glUnmapBuffer(GL_PIXEL_UNPACK_BUFFER) == GL_FALSE) {
    return fail(Errc::kGl, "upload buffer contents lost during unmap");
  }
  submit_packed(damage, 0, stats);
  return {};
}

void TextureUploader::upload_from_framebuffer(const DamageRegion& damage, UploadStats& stats) {
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, fb_pbo_);
  // The framebuffer is the unpack buffer: ROW_LENGTH + an offset per rectangle, no CPU copy.
  glPixelStorei(GL_UNPACK_ROW_LENGTH, static_cast<GLint>(fb_stride_ / kBytesPerPixel));
  const std::size_t stride = fb_stride_;
  for (const auto& b : damage.boxes()) {
    const std::size_t off = static_cast<std::size_t>(b.y1) * stride + static_cast<std::size_t>(b.x1) * kBytesPerPixel;
    sub_image(b, reinterpret_cast<const void*>(off));
    stats.bytes_uploaded += std::int64_t{b.x2 - b.x1} * (b.y2 - b.y1) * static_cast<std::int64_t>(kBytesPerPixel);
    ++stats.rects;
  }
  if (fb_fence_ != nullptr) glDeleteSync(as_sync(fb_fence_));
  fb_fence_ = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
}

Result<MappedFramebuffer> TextureUploader::map_framebuffer(std::int32_t width, std::int32_t height,
                                                           std::size_t stride) {
  if (stride == 0) stride = static_cast<std::size_t>(width > 0 ? width : 0) * kBytesPerPixel;
  PixelSource probe{reinterpret_cast<const std::byte*>(this), width, height, stride};
  if (!probe.valid()) {
    return fail(Errc::kInvalidArgument, "framebuffer " + std::to_string(width) + "x" + std::to_string(height) +
                                            " stride " + std::to_string(stride));
  }
  if (!has_buffer_storage()) return fail(Errc::kGl, "a mapped framebuffer needs GL 4.4 or GL_ARB_buffer_storage");
  wait_idle();
  if (fb_pbo_ != 0) glDeleteBuffers(1, &fb_pbo_);
  fb_ = nullptr;
  const auto bytes = static_cast<GLsizeiptr>(probe.stride * static_cast<std::size_t>(height));
  glGenBuffers(1, &fb_pbo_);
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, fb_pbo_);
  const GLbitfield flags = GL_MAP_WRITE_BIT | GL_MAP_READ_BIT | GL_MAP_PERSISTENT_BIT | GL_MAP_COHERENT_BIT;
  glBufferStorage(GL_PIXEL_UNPACK_BUFFER, bytes, nullptr, flags);
  fb_ = static_cast<std::byte*>(glMapBufferRange(GL_PIXEL_UNPACK_BUFFER, 0, bytes, flags));
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
  if (fb_ == nullptr) {
    glDeleteBuffers(1, &fb_pbo_);
    fb_pbo_ = 0;
    (void)check_errors("map framebuffer");
    return fail(Errc::kGl, "could not map a " + std::to_string(bytes) + "-byte framebuffer");
  }
  std::memset(fb_, 0, static_cast<std::size_t>(bytes));
  fb_width_ = width;
  fb_height_ = height;
  fb_stride_ = probe.stride;
  return MappedFramebuffer{fb_, PixelSource{fb_, width, height, probe.stride}};
}

void TextureUploader::wait_idle() {
  for (auto& f : fences_) (void)retire_fence(f);
  (void)retire_fence(fb_fence_);
}

}  // namespace vitrine::compositor
