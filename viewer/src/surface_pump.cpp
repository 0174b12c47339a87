#include "vitrine/viewer/surface_pump.hpp"

namespace vitrine::viewer {

bool SurfacePump::attach(std::uint32_t window, Size& size) {
  if (compositor_.scene().find(window) == nullptr) return false;
  auto r = compositor_.attach_surface(window, static_cast<std::int32_t>(size.width), static_cast<std::int32_t>(size.height));
  size.attached = r.has_value();
  return size.attached;
}

void SurfacePump::window_created(std::uint32_t id) {
  auto it = surfaces_.find(id);
  if (it == surfaces_.end() || it->second.attached) return;
  if (attach(id, it->second) && receiver_ != nullptr) {
    receiver_->request_refresh(id);
    ++stats_.refreshes;
  }
}

void SurfacePump::window_deleted(std::uint32_t id) {
  // The surface outlives its window only until the guest destroys it; if the window comes back
  // (same id), it is attached again and refreshed.
  if (auto it = surfaces_.find(id); it != surfaces_.end()) it->second.attached = false;
}

bool SurfacePump::surface_attached(std::uint32_t window, std::uint32_t width, std::uint32_t height) {
  Size& size = surfaces_[window];
  size.width = width;
  size.height = height;
  size.attached = false;
  attach(window, size);  // no window yet: waits for window_created()
  return true;
}

void SurfacePump::surface_presented(std::uint32_t window, const SurfaceFrame& frame) {
  auto it = surfaces_.find(window);
  if (it == surfaces_.end()) return;
  if (!it->second.attached) {
    ++stats_.early_presents;
    return;  // window_created() asks for a Refresh
  }
  compositor::PixelSource source;
  source.data = frame.pixels;
  source.width = static_cast<std::int32_t>(frame.width);
  source.height = static_cast<std::int32_t>(frame.height);
  source.stride = frame.stride;
  auto up = compositor_.upload_surface(window, source, frame.rects);
  if (!up) {
    ++stats_.upload_failures;
    return;
  }
  ++stats_.uploads;
  stats_.bytes_uploaded += up->bytes_uploaded;
  dirty_ = true;
  if (oldest_.read_ns == 0) oldest_ = {frame.read_ns, frame.damage_ns};
}

void SurfacePump::surface_detached(std::uint32_t window) {
  auto it = surfaces_.find(window);
  if (it == surfaces_.end()) return;
  if (it->second.attached) (void)compositor_.detach_surface(window);
  surfaces_.erase(it);
  dirty_ = true;
}

bool SurfacePump::has_surface(std::uint32_t window) const {
  auto it = surfaces_.find(window);
  return it != surfaces_.end() && it->second.attached;
}

std::set<std::uint32_t> SurfacePump::windows() const {
  std::set<std::uint32_t> out;
  for (const auto& [window, size] : surfaces_)
    if (size.attached) out.insert(window);
  return out;
}

}  // namespace vitrine::viewer
