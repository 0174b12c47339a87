#include "vitrine/compositor/compositor.hpp"

#include <epoxy/gl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "renderer.hpp"
#include "retiring_pixels.hpp"
#include "surface_texture.hpp"
#include "vitrine/perf/probes.hpp"  // USDT (perf room, header only)

namespace vitrine::compositor {
namespace {

// What a drawable of this size costs against the window pixel budget.
std::uint64_t pixels_of(const DesktopRect& r) { return static_cast<std::uint64_t>(r.area()); }

bool env_debug_damage() {
  const char* v = std::getenv("VITRINE_DEBUG_DAMAGE");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace

Result<std::unique_ptr<Compositor>> Compositor::create(std::unique_ptr<Backend> backend,
                                                       const CompositorConfig& config) {
  if (!backend) return fail(Errc::kInvalidArgument, "no backend");
  if (auto ok = backend->make_current(); !ok) return std::unexpected(ok.error());
  std::unique_ptr<Compositor> c(new Compositor());
  c->backend_ = std::move(backend);
  c->config_ = config;
  c->debug_damage_ = config.debug_damage.value_or(env_debug_damage());
  c->budget_ = config.max_window_pixels;
  auto uploader = TextureUploader::create(config.upload_path, config.max_upload_rects);
  if (!uploader) return std::unexpected(uploader.error());
  c->uploader_ = std::move(*uploader);
  auto renderer = Renderer::create();
  if (!renderer) return std::unexpected(renderer.error());
  c->renderer_ = std::make_unique<Renderer>(std::move(*renderer));
  c->retiring_ = std::make_unique<RetiringPixels>();
  c->monitors_ = c->backend_->monitors();
  (void)c->backend_->take_monitors_changed();
  return c;
}

Compositor::~Compositor() {
  if (!backend_) return;
  // GL objects of the uploader and renderer die with the context current; windows before the
  // backend that owns their drawables.
  (void)backend_->make_current();
  renderer_.reset();
  uploader_.reset();
  retiring_.reset();
  surfaces_.clear();
  for (WindowId id : std::vector<WindowId>(scene_.stacking().begin(), scene_.stacking().end())) {
    backend_->remove_window(id);
  }
  backend_.reset();
}

const CompositorStats& Compositor::stats() const {
  stats_.refused = scene_.refused() + refused_;
  stats_.window_pixels = window_pixels_;
  stats_.window_pixel_budget = budget_;
  stats_.windows_parked = parked_.size();
  stats_.retiring_pixels = retiring_->pixels();
  stats_.retire_fences = retiring_->fences();
  stats_.surfaces = surfaces_.size();
  return stats_;
}

ChangeMask Compositor::reguard(Window& w) {
  const Window* owner = w.desc.owner == kNoWindow ? nullptr : scene_.find(w.desc.owner);
  if (owner != nullptr && (!owner->shown() || parked_.contains(owner->id))) owner = nullptr;
  HostFrame f = guard_window(w, owner, monitors_, config_.label);
  ChangeMask m = 0;
  if (f.rect != w.host.rect) m |= kChangeRect | kChangeShape;
  if (f.border_px != w.host.border_px || f.border_rgb != w.host.border_rgb) m |= kChangeShape;
  if (f.override_redirect != w.host.override_redirect) m |= kChangeKind;
  if (f.title != w.host.title) m |= kChangeTitle;
  w.host = std::move(f);
  return m;
}

void Compositor::reguard_owned(WindowId owner) {
  for (WindowId id : std::vector<WindowId>(scene_.stacking().begin(), scene_.stacking().end())) {
    Window* w = scene_.find(id);
    if (w == nullptr || w->desc.owner != owner) continue;
    const ChangeMask m = reguard(*w);
    if (m == 0 || parked_.contains(id)) continue;
    redraw_.insert(id);
    if (!backend_->update_window(*w, m)) ++stats_.backend_errors;
  }
}

void Compositor::refresh_monitors() {
  if (!backend_->take_monitors_changed()) return;
  monitors_ = backend_->monitors();
  // Owners first (bottom to top is not owners first): two passes settle one level of ownership.
  for (int pass = 0; pass < 2; ++pass) {
    for (WindowId id : std::vector<WindowId>(scene_.stacking().begin(), scene_.stacking().end())) {
      Window* w = scene_.find(id);
      if (w == nullptr) continue;
      const ChangeMask m = reguard(*w);
      if (m == 0 || parked_.contains(id)) continue;
      redraw_.insert(id);
      if (!backend_->update_window(*w, m)) ++stats_.backend_errors;
    }
  }
}

Result<void> Compositor::changed(WindowId id, ChangeMask changes, bool redraw) {
  Window* w = scene_.find(id);
  if (w == nullptr) return fail(Errc::kNotFound, "no window " + std::to_string(id));
  const ChangeMask host = reguard(*w);
  changes |= host;
  if ((host & kChangeShape) != 0) redraw = true;  // the border is drawn into the window
  if (parked_.contains(id)) return {};  // no drawable: admit_waiting() gives it the whole state
  if (redraw) redraw_.insert(id);
  if (auto ok = backend_->make_current(); !ok) return ok;
  if (auto ok = backend_->update_window(*w, changes); !ok) {
    ++stats_.backend_errors;
    return ok;
  }
  // Its popups stay on its monitor; its shown state decides whether they have an owner at all.
  if ((changes & (kChangeRect | kChangeVisible | kChangeState)) != 0) reguard_owned(id);
  return {};
}

Result<void> Compositor::create_window(WindowId id, const WindowDesc& desc) {
  auto w = scene_.create(id, desc);
  if (!w) return std::unexpected(w.error());
  (void)reguard(**w);
  const std::uint64_t pixels = pixels_of(desc.rect);
  if (!fits(pixels)) {
    parked_.insert(id);
    ++stats_.over_budget;
    return {};
  }
  if (auto ok = backend_->make_current(); !ok) {
    (void)scene_.destroy(id);
    return ok;
  }
  if (auto ok = backend_->add_window(**w); !ok) {
    ++stats_.backend_errors;
    (void)scene_.destroy(id);
    return ok;
  }
  window_pixels_ += pixels;
  backend_->restack(scene_.stacking());
  redraw_.insert(id);
  return {};
}

Result<void> Compositor::destroy_window(WindowId id) {
  const Window* w = scene_.find(id);
  const std::uint64_t pixels = w != nullptr ? pixels_of(w->desc.rect) : 0;
  if (auto ok = scene_.destroy(id); !ok) return ok;
  redraw_.erase(id);
  deferred_.erase(id);
  drop_surface(id);
  if (parked_.erase(id) != 0) return {};
  window_pixels_ -= pixels;
  if (auto ok = backend_->make_current(); !ok) return ok;
  backend_->remove_window(id);
  freed(pixels);
  admit_waiting();
  return {};
}

Result<void> Compositor::set_rect(WindowId id, const DesktopRect& rect) {
  const Window* w = scene_.find(id);
  if (w != nullptr && !parked_.contains(id) && Scene::check_rect(rect)) {
    const DesktopRect old = w->desc.rect;
    const std::uint64_t before = pixels_of(old), after = pixels_of(rect);
    if (after > before && !fits(after - before)) {
      deferred_[id] = Size{rect.width, rect.height};
      ++stats_.over_budget;
      const DesktopRect moved{rect.x, rect.y, old.width, old.height};
      if (moved == old) return {};
      if (auto ok = scene_.set_rect(id, moved); !ok) return ok;
      return changed(id, kChangeRect | kChangeShape, true);
    }
    deferred_.erase(id);
    if (auto ok = scene_.set_rect(id, rect); !ok) return ok;
    window_pixels_ = window_pixels_ - before + after;
    auto ok = changed(id, kChangeRect | kChangeShape, true);
    if (old.width != rect.width || old.height != rect.height) freed(before);
    if (after < before) admit_waiting();
    return ok;
  }
  // Unknown ids and bad rectangles are refused (and counted) by the scene; a parked window only
  // changes in the scene, and may fit now.
  if (auto ok = scene_.set_rect(id, rect); !ok) return ok;
  admit_waiting();
  return {};
}

void Compositor::set_window_pixel_budget(std::uint64_t pixels) {
  budget_ = pixels;
  admit_waiting();
}

void Compositor::freed(std::uint64_t pixels) {
  // A fence per quarter budget: a destroy storm parks new windows for at most a turn or so.
  constexpr std::uint64_t kNoBudgetFencePixels = 4ull << 20;  // 16 MiB of RGBA
  retiring_->freed(pixels, budget_ != 0 ? std::max<std::uint64_t>(budget_ / 4, 1) : kNoBudgetFencePixels);
}

bool Compositor::fits(std::uint64_t more_pixels) const {
  return budget_ == 0 || window_pixels_ + retiring_->pixels() + more_pixels <= budget_;
}

std::uint64_t Compositor::retiring_pixels() const { return retiring_->pixels(); }

bool Compositor::retire_freed() {
  if (retiring_->pixels() == 0) return false;
  if (!backend_->make_current()) return false;
  if (!retiring_->retire()) return false;
  admit_waiting();
  return true;
}

void Compositor::admit_waiting() {
  if (parked_.empty() && deferred_.empty()) return;
  if (!backend_->make_current()) return;  // tried again at the next free
  bool added = false;
  const std::vector<WindowId> top_to_bottom(scene_.stacking().rbegin(), scene_.stacking().rend());
  for (WindowId id : top_to_bottom) {
    const Window* w = scene_.find(id);
    if (w == nullptr) continue;
    if (parked_.contains(id)) {
      const std::uint64_t pixels = pixels_of(w->desc.rect);
      if (!fits(pixels)) continue;  // a smaller window further down may still fit
      if (Window* admitted = scene_.find(id)) (void)reguard(*admitted);
      if (auto ok = backend_->add_window(*w); !ok) {
        ++stats_.backend_errors;
        continue;
      }
      parked_.erase(id);
      window_pixels_ += pixels;
      redraw_.insert(id);
      added = true;
      // Windows it owns were told of no owner while it had no drawable (X11 WM_TRANSIENT_FOR).
      for (WindowId other : top_to_bottom) {
        const Window* o = scene_.find(other);
        if (o != nullptr && o->desc.owner == id && !parked_.contains(other)) (void)changed(other, kChangeOwner, false);
      }
    } else if (auto d = deferred_.find(id); d != deferred_.end()) {
      const DesktopRect want{w->desc.rect.x, w->desc.rect.y, d->second.width, d->second.height};
      const std::uint64_t before = pixels_of(w->desc.rect), after = pixels_of(want);
      if (after > before && !fits(after - before)) continue;
      deferred_.erase(d);
      if (!scene_.set_rect(id, want)) continue;  // checked when it was deferred; cannot fail
      window_pixels_ = window_pixels_ - before + after;
      (void)changed(id, kChangeRect | kChangeShape, true);
      freed(before);
    }
  }
  if (added) backend_->restack(scene_.stacking());
}

Result<void> Compositor::set_title(WindowId id, std::string_view title) {
  if (auto ok = scene_.set_title(id, title); !ok) return ok;
  return changed(id, kChangeTitle, false);
}

Result<void> Compositor::set_icon(WindowId id, Icon icon) {
  if (auto ok = scene_.set_icon(id, std::move(icon)); !ok) return ok;
  return changed(id, kChangeIcon, false);
}

Result<void> Compositor::set_state(WindowId id, WindowState state) {
  if (auto ok = scene_.set_state(id, state); !ok) return ok;
  return changed(id, kChangeState, true);
}

Result<void> Compositor::set_owner(WindowId id, WindowId owner) {
  if (auto ok = scene_.set_owner(id, owner); !ok) return ok;
  return changed(id, kChangeOwner, false);
}

Result<void> Compositor::set_visible(WindowId id, bool visible) {
  if (auto ok = scene_.set_visible(id, visible); !ok) return ok;
  return changed(id, kChangeVisible, visible);
}

Result<void> Compositor::set_visible_region(WindowId id, const WindowRegion& region) {
  if (auto ok = scene_.set_visible_region(id, region); !ok) return ok;
  return changed(id, kChangeShape, true);
}

void Compositor::set_z_order(std::span<const WindowId> top_to_bottom) {
  scene_.set_z_order(top_to_bottom);
  backend_->restack(scene_.stacking());
}

Result<void> Compositor::raise(WindowId id) {
  if (auto ok = scene_.raise(id); !ok) return ok;
  backend_->restack(scene_.stacking());
  return {};
}

void Compositor::damage(const DesktopRect& rect) {
  pending_.add(rect);
  if (pending_.cap_rects(kMaxPendingRects)) ++stats_.damage_merged;
}

void Compositor::damage(std::span<const DesktopRect> rects) {
  for (const DesktopRect& r : rects) pending_.add(r);
  if (pending_.cap_rects(kMaxPendingRects)) ++stats_.damage_merged;
}

Result<void> Compositor::activate(WindowId id) {
  if (auto ok = scene_.raise(id); !ok) return ok;
  backend_->restack(scene_.stacking());
  if (parked_.contains(id)) return {};  // nothing on the host to focus
  return backend_->activate(*scene_.find(id));
}

Result<void> Compositor::demand_attention(WindowId id) {
  const Window* w = scene_.find(id);
  if (w == nullptr) return refuse(Errc::kNotFound, "no window " + std::to_string(id));
  if (parked_.contains(id)) return {};
  if (auto ok = backend_->make_current(); !ok) return ok;
  return backend_->demand_attention(*w);
}

void Compositor::damage(const DamageRegion& region) {
  pending_.add(region);
  if (pending_.cap_rects(kMaxPendingRects)) ++stats_.damage_merged;
}

Result<PresentResult> Compositor::present(const PixelSource& framebuffer) {
  auto up = upload(framebuffer);
  if (!up) return std::unexpected(up.error());
  PresentResult result;
  result.upload = *up;
  return draw_windows(std::exchange(uploaded_, DamageRegion{}), result);
}

Result<UploadStats> Compositor::upload(const PixelSource& framebuffer) {
  if (!framebuffer.valid()) {
    return refuse(Errc::kInvalidArgument, "framebuffer " + std::to_string(framebuffer.width) + "x" +
                                              std::to_string(framebuffer.height) + " stride " +
                                              std::to_string(framebuffer.stride) + " is not valid");
  }
  if (auto ok = backend_->make_current(); !ok) return std::unexpected(ok.error());

  DamageRegion damage = std::move(pending_);
  pending_.clear();
  {
    DamageRegion outside = damage.copy();
    outside.subtract(framebuffer.bounds());
    if (!outside.empty()) ++stats_.damage_clipped;
  }
  damage.intersect(framebuffer.bounds());
  const bool new_texture = uploader_->texture() == 0 || uploader_->width() != framebuffer.width ||
                           uploader_->height() != framebuffer.height;
  if (new_texture) {
    hasher_.reset();
    damage = DamageRegion(framebuffer.bounds());
  }
  if (config_.tile_hashing) damage = hasher_.filter(damage, framebuffer);
  VITRINE_PROBE2(damage_computed, damage.rect_count(), damage.area());

  auto up = uploader_->upload(framebuffer, damage);
  if (!up) return std::unexpected(up.error());
  stats_.bytes_damaged += static_cast<std::uint64_t>(up->bytes_damaged);
  stats_.bytes_uploaded += static_cast<std::uint64_t>(up->bytes_uploaded);
  stats_.upload_rects += static_cast<std::uint64_t>(up->rects);
  stats_.cpu_waits += static_cast<std::uint64_t>(up->cpu_waits);
  if (up->merged) ++stats_.damage_merged;
  VITRINE_PROBE2(texture_uploaded, up->bytes_uploaded, up->rects);
  uploaded_.add(damage);
  return *up;
}

Result<PresentResult> Compositor::present() {
  if (auto ok = backend_->make_current(); !ok) return std::unexpected(ok.error());
  return draw_windows(std::exchange(uploaded_, DamageRegion{}), PresentResult{});
}

Result<PresentResult> Compositor::draw_windows(const DamageRegion& damage, PresentResult result) {
  refresh_monitors();
  std::vector<WindowId> exposed;
  backend_->take_exposed(exposed);
  redraw_.insert(exposed.begin(), exposed.end());

  std::vector<const Window*> draw;
  for (WindowId id : scene_.stacking()) {
    const Window* w = scene_.find(id);
    if (w == nullptr || !w->shown() || parked_.contains(id)) continue;
    // Desktop damage says nothing about a window painted from its own surface: it is drawn when
    // its surface was uploaded (upload_surface() queued it) or the window changed.
    const bool touched = !surfaces_.contains(id) && damage.intersects(w->desc.rect);
    if (!touched && !redraw_.contains(id)) {
      ++result.windows_skipped;
      continue;
    }
    draw.push_back(w);
  }
  for (const Window* w : draw) {
    if (auto ok = backend_->begin_frame(*w); !ok) {
      ++stats_.backend_errors;
      continue;
    }
    WindowTexture from{uploader_->texture(), uploader_->width(), uploader_->height(), w->desc.rect.x,
                       w->desc.rect.y};
    WindowRegion tint;
    if (auto s = surfaces_.find(w->id); s != surfaces_.end()) {
      from = WindowTexture{s->second->texture(), s->second->width(), s->second->height(), 0, 0};
      if (debug_damage_) std::swap(tint, s->second->uploaded_since_draw);
    } else if (debug_damage_) {
      tint = to_window(damage, w->desc.rect);
    }
    renderer_->draw(*w, from, debug_damage_ ? &tint : nullptr);
    if (auto ok = backend_->end_frame(*w, w == draw.back()); !ok) {
      ++stats_.backend_errors;
      continue;
    }
    ++result.windows_presented;
    VITRINE_PROBE1(window_presented, w->id);
  }
  redraw_.clear();
  stats_.windows_presented += result.windows_presented;
  stats_.windows_skipped += result.windows_skipped;
  ++stats_.frames;
  if (const GLenum e = glGetError(); e != GL_NO_ERROR) {
    return fail(Errc::kGl, "GL error " + std::to_string(e) + " while presenting", static_cast<int>(e));
  }
  return result;
}

Result<MappedFramebuffer> Compositor::map_framebuffer(std::int32_t width, std::int32_t height,
                                                      std::size_t stride) {
  if (auto ok = backend_->make_current(); !ok) return std::unexpected(ok.error());
  return uploader_->map_framebuffer(width, height, stride);
}

void Compositor::wait_uploads_idle() {
  if (backend_->make_current()) uploader_->wait_idle();
}

void Compositor::finish() {
  if (backend_->make_current()) glFinish();
}

}  // namespace vitrine::compositor
