#include "gl_upload.hpp"

#include <epoxy/gl.h>

#include <string>

namespace vitrine::compositor::gl {

Result<void> check_errors(const char* what) {
  GLenum first = GL_NO_ERROR;
  for (GLenum e = glGetError(); e != GL_NO_ERROR; e = glGetError()) {
    if (first == GL_NO_ERROR) first = e;
  }
  if (first != GL_NO_ERROR) return fail(Errc::kGl, std::string(what) + " raised a GL error", static_cast<int>(first));
  return {};
}

Result<void> allocate_texture(std::uint32_t& texture, std::int32_t width, std::int32_t height, const char* what) {
  GLint max_size = 0;
  glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_size);
  if (width > max_size || height > max_size) {
    return fail(Errc::kLimit, std::string(what) + " " + std::to_string(width) + "x" + std::to_string(height) +
                                  " beyond GL_MAX_TEXTURE_SIZE " + std::to_string(max_size));
  }
  if (texture == 0) glGenTextures(1, &texture);
  glBindTexture(GL_TEXTURE_2D, texture);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);  // a bound unpack buffer would make NULL an offset
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, width, height, 0, GL_BGRA, GL_UNSIGNED_BYTE, nullptr);
  return check_errors(what);
}

void sub_image(const pixman_box32_t& b, const void* pixels_or_offset) {
  glTexSubImage2D(GL_TEXTURE_2D, 0, b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1, GL_BGRA, GL_UNSIGNED_BYTE,
                  pixels_or_offset);
}

void reset_unpack_state() {
  glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  glPixelStorei(GL_UNPACK_SKIP_PIXELS, 0);
  glPixelStorei(GL_UNPACK_SKIP_ROWS, 0);
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
}

void upload_from_client(std::uint32_t texture, const PixelSource& source, std::span<const pixman_box32_t> boxes,
                        UploadStats& stats) {
  glBindTexture(GL_TEXTURE_2D, texture);
  glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);  // rows start at multiples of 4 (stride % 4 == 0)
  // Row length = the source stride: GL walks the caller's rows itself; the pointer of each box's
  // first pixel replaces SKIP_PIXELS/SKIP_ROWS.
  glPixelStorei(GL_UNPACK_ROW_LENGTH, static_cast<GLint>(source.stride / kBytesPerPixel));
  for (const auto& b : boxes) {
    sub_image(b, source.pixel(b.x1, b.y1));
    stats.bytes_uploaded += std::int64_t{b.x2 - b.x1} * (b.y2 - b.y1) * static_cast<std::int64_t>(kBytesPerPixel);
    ++stats.rects;
  }
  reset_unpack_state();
}

}  // namespace vitrine::compositor::gl
