// Private: draws one window from a texture into the bound draw framebuffer, with texelFetch
// (exact texels, no filtering): the window's pixel (x, y) is texel (x + origin.x, y + origin.y).
// A window that samples the desktop texture has origin = its desktop rectangle's top-left; a
// window with its own surface texture has origin (0, 0). Texels outside the texture (off the
// desktop, or past the surface of a window larger than it) come out opaque black.
#pragma once

#include <cstdint>

#include "vitrine/compositor/damage_region.hpp"
#include "vitrine/compositor/error.hpp"
#include "vitrine/compositor/window.hpp"

namespace vitrine::compositor {

// Where a window's pixels come from.
struct WindowTexture {
  std::uint32_t texture = 0;  // GL texture name; 0 (or a 0x0 size): the window is black
  std::int32_t width = 0;     // texture size in texels
  std::int32_t height = 0;
  std::int32_t origin_x = 0;  // texel under the window's top-left pixel
  std::int32_t origin_y = 0;
};

class Renderer {
 public:
  static Result<Renderer> create();  // needs a current GL 3.3 core context
  Renderer(Renderer&& other) noexcept;
  Renderer& operator=(Renderer&&) = delete;
  Renderer(const Renderer&) = delete;
  ~Renderer();

  // `tint` (window coordinates): VITRINE_DEBUG_DAMAGE overlay of what was just uploaded.
  // The window is drawn at its host size (window.host.rect) with its label border on top.
  void draw(const Window& window, const WindowTexture& from, const WindowRegion* tint);

 private:
  void draw_border(const HostFrame& host, std::int32_t width, std::int32_t height);
  Renderer() = default;
  std::uint32_t program_ = 0;
  std::uint32_t vao_ = 0;
  std::int32_t loc_origin_ = -1;
  std::int32_t loc_height_ = -1;
  std::int32_t loc_texture_size_ = -1;
  std::int32_t loc_tint_ = -1;
};

}  // namespace vitrine::compositor
