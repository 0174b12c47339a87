// Private: the GL texture format and the rectangle upload that the desktop texture
// (TextureUploader) and window surfaces (SurfaceTexture) share, so that both keep one
// definition of "BGRA8888 pixels of a PixelSource into an RGBA8 texture".
//
// Contract: the compositor's GL context (OpenGL 3.3 core) is current on the calling thread.
// GL 3.3 core has GL_UNPACK_ROW_LENGTH/SKIP_* natively (GLES2 would need
// EXT_unpack_subimage); the context is never GLES, so there is no repacking fallback.
#pragma once

#include <pixman.h>

#include <cstdint>
#include <span>

#include "vitrine/compositor/error.hpp"
#include "vitrine/compositor/pixel_source.hpp"
#include "vitrine/compositor/texture_uploader.hpp"

namespace vitrine::compositor::gl {

// Drains glGetError(); Errc::kGl naming `what` and the first error when there was one.
Result<void> check_errors(const char* what);

// (Re)specifies `texture` (generated when 0) as width x height RGBA8, contents undefined,
// nearest filtering and clamp-to-edge (texelFetch reads exact texels anyway). Errc::kLimit past
// GL_MAX_TEXTURE_SIZE, Errc::kGl when GL refuses (out of memory); `texture` stays valid (it may
// be 0 only if it was 0 before and generation failed).
Result<void> allocate_texture(std::uint32_t& texture, std::int32_t width, std::int32_t height, const char* what);

// glTexSubImage2D of one box (texture coordinates) of the bound GL_TEXTURE_2D from a client
// pointer or, with a bound GL_PIXEL_UNPACK_BUFFER, a byte offset into it.
void sub_image(const pixman_box32_t& box, const void* pixels_or_offset);

// Back to the default unpack state (no row length, no skips, no unpack buffer) so that other
// GL users of the context see what they expect.
void reset_unpack_state();

// Makes `texture` equal to `source` inside `boxes` (source coordinates == texture coordinates;
// non-overlapping, inside both, as a pixman region's boxes are): one glTexSubImage2D per box
// straight from the caller's memory, GL_UNPACK_ROW_LENGTH = stride, so GL copies each damaged
// byte once and nothing is staged or repacked on our side. Adds to stats.bytes_uploaded and
// stats.rects. Leaves the unpack state reset and `texture` bound to GL_TEXTURE_2D.
void upload_from_client(std::uint32_t texture, const PixelSource& source, std::span<const pixman_box32_t> boxes,
                        UploadStats& stats);

}  // namespace vitrine::compositor::gl
