// Private: draws one window from the desktop texture into the bound draw framebuffer.
// Each window samples its own rectangle of the one desktop texture with texelFetch (exact
// texels, no filtering): the window's pixel (x, y) is desktop pixel (x + rect.x, y + rect.y).
// Desktop pixels outside the texture come out opaque black.
#pragma once

#include <cstdint>

#include "vitrine/compositor/damage_region.hpp"
#include "vitrine/compositor/error.hpp"
#include "vitrine/compositor/window.hpp"

namespace vitrine::compositor {

class Renderer {
 public:
  static Result<Renderer> create();  // needs a current GL 3.3 core context
  Renderer(Renderer&& other) noexcept;
  Renderer& operator=(Renderer&&) = delete;
  Renderer(const Renderer&) = delete;
  ~Renderer();

  // `tint` (window coordinates): VITRINE_DEBUG_DAMAGE overlay of what was just uploaded.
  void draw(const Window& window, std::uint32_t desktop_texture, std::int32_t desktop_width,
            std::int32_t desktop_height, const WindowRegion* tint);

 private:
  Renderer() = default;
  std::uint32_t program_ = 0;
  std::uint32_t vao_ = 0;
  std::int32_t loc_origin_ = -1;
  std::int32_t loc_height_ = -1;
  std::int32_t loc_desktop_size_ = -1;
  std::int32_t loc_tint_ = -1;
};

}  // namespace vitrine::compositor
