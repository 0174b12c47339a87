// Compositor: windows painted from their own pixels (attach_surface / upload_surface). The
// rest of the class is in compositor.cpp; drawing both kinds of window is draw_windows() there.
#include <string>
#include <utility>

#include "surface_texture.hpp"
#include "vitrine/compositor/compositor.hpp"

namespace vitrine::compositor {
namespace {

std::string size_string(std::int32_t width, std::int32_t height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

}  // namespace

Result<void> Compositor::attach_surface(WindowId id, std::int32_t width, std::int32_t height) {
  if (scene_.find(id) == nullptr) return refuse(Errc::kNotFound, "no window " + std::to_string(id));
  if (width < 1 || height < 1 || width > SurfaceTexture::kMaxSize || height > SurfaceTexture::kMaxSize) {
    return refuse(Errc::kInvalidArgument, "surface " + size_string(width, height) + " of window " +
                                              std::to_string(id) + " outside 1.." +
                                              std::to_string(SurfaceTexture::kMaxSize));
  }
  const auto it = surfaces_.find(id);
  if (it != surfaces_.end() && it->second->width() == width && it->second->height() == height) return {};
  if (auto ok = backend_->make_current(); !ok) return ok;
  auto texture = SurfaceTexture::create(width, height);
  if (!texture) {
    if (texture.error().code != Errc::kGl) ++refused_;  // kLimit: the guest asked too much
    return std::unexpected(texture.error());  // a surface attached before stays as it was
  }
  if (it != surfaces_.end()) {
    *it->second = std::move(*texture);
  } else {
    surfaces_.emplace(id, std::make_unique<SurfaceTexture>(std::move(*texture)));
  }
  // Not redrawn here: the new texture has no defined pixels until upload_surface().
  return {};
}

Result<void> Compositor::detach_surface(WindowId id) {
  if (scene_.find(id) == nullptr) return refuse(Errc::kNotFound, "no window " + std::to_string(id));
  if (!surfaces_.contains(id)) return {};
  drop_surface(id);
  if (!parked_.contains(id)) redraw_.insert(id);
  return {};
}

bool Compositor::has_surface(WindowId id) const { return surfaces_.contains(id); }

void Compositor::drop_surface(WindowId id) {
  const auto it = surfaces_.find(id);
  if (it == surfaces_.end()) return;
  // Without our context current the name would delete another context's texture: leak it.
  if (!backend_->make_current()) it->second->release();
  surfaces_.erase(it);
}

Result<UploadStats> Compositor::upload_surface(WindowId id, const PixelSource& pixels,
                                               std::span<const WindowRect> rects) {
  if (scene_.find(id) == nullptr) return refuse(Errc::kNotFound, "no window " + std::to_string(id));
  const auto it = surfaces_.find(id);
  if (it == surfaces_.end()) return refuse(Errc::kNotFound, "window " + std::to_string(id) + " has no surface");
  SurfaceTexture& surface = *it->second;
  if (!pixels.valid()) {
    return refuse(Errc::kInvalidArgument, "surface pixels " + size_string(pixels.width, pixels.height) +
                                              " stride " + std::to_string(pixels.stride) + " are not valid");
  }
  if (pixels.width != surface.width() || pixels.height != surface.height()) {
    return refuse(Errc::kInvalidArgument, "surface pixels " + size_string(pixels.width, pixels.height) +
                                              " for window " + std::to_string(id) + " whose surface is " +
                                              size_string(surface.width(), surface.height()));
  }
  const SurfaceTexture::Damage damage =
      SurfaceTexture::clip_damage(rects, surface.width(), surface.height(), config_.max_upload_rects);
  if (damage.region.empty()) return UploadStats{};
  if (auto ok = backend_->make_current(); !ok) return std::unexpected(ok.error());
  auto up = surface.upload(pixels, damage);
  if (!up) return up;
  ++stats_.surface_uploads;
  stats_.surface_bytes_uploaded += static_cast<std::uint64_t>(up->bytes_uploaded);
  stats_.surface_bytes_damaged += static_cast<std::uint64_t>(up->bytes_damaged);
  if (up->merged) ++stats_.damage_merged;
  if (debug_damage_) {
    surface.uploaded_since_draw.add(damage.region);
    surface.uploaded_since_draw.cap_rects(kMaxPendingRects);
  }
  // A parked window is drawn whole when admitted; a hidden one when shown again.
  if (!parked_.contains(id)) redraw_.insert(id);
  return up;
}

}  // namespace vitrine::compositor
