// The compositor's public API: what rdpmux's window/damage events (adapted by cli/) drive.
//
//   auto comp = Compositor::create(X11Backend::create(...) or HeadlessBackend::create());
//   WindowDesc desc; desc.rect = {x, y, w, h}; desc.title = "...";
//   comp->create_window(id, desc);
//   comp->damage(DesktopRect{...});          // as often as the producer paints
//   comp->present(framebuffer);              // once per display frame: upload + draw
//   comp->set_rect / set_title / set_icon / set_state / set_owner / set_z_order / destroy_window
//
// Threading: one thread (the UI thread) makes every call; the GL context is current on it.
// Coordinates: window rectangles and damage in desktop coordinates (the framebuffer's).
// Errors: bad arguments are refused (Errc::kInvalidArgument/kNotFound/kLimit) and counted in
// stats().refused; damage outside the framebuffer is clipped and counted; nothing crashes.
//
// Window pixel budget (CompositorConfig::max_window_pixels): each host drawable (an X window +
// EGL surface, a renderbuffer) costs width x height pixels of host memory, and the sum over the
// windows that have one stays within the budget. A window that does not fit is *parked*: it is in
// the scene (every setter works, its id stays valid) but has no drawable and is not drawn. A drawn
// window whose resize does not fit keeps its size (the new position is applied) and its new size
// is *deferred*. Both are counted (stats().over_budget) and retried, topmost first, whenever
// pixels are freed (destroy, shrink, a larger budget); over_budget(id) says which windows wait.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "vitrine/compositor/backend.hpp"
#include "vitrine/compositor/damage_region.hpp"
#include "vitrine/compositor/pixel_source.hpp"
#include "vitrine/compositor/scene.hpp"
#include "vitrine/compositor/texture_uploader.hpp"
#include "vitrine/compositor/tile_hasher.hpp"

namespace vitrine::compositor {

class Renderer;

struct CompositorConfig {
  UploadPath upload_path = UploadPath::kAuto;
  std::size_t max_upload_rects = TextureUploader::kDefaultMaxRects;
  bool tile_hashing = false;         // drop damage whose 64x64 tiles did not change (TileHasher)
  std::optional<bool> debug_damage;  // tint uploads magenta; unset = env VITRINE_DEBUG_DAMAGE=1
  // Most pixels (width x height, summed over windows) of host drawables at once; 0: no budget.
  std::uint64_t max_window_pixels = 0;
};

struct CompositorStats {
  std::uint64_t frames = 0;              // present() calls that succeeded
  std::uint64_t windows_presented = 0;   // window draws + swaps
  std::uint64_t windows_skipped = 0;     // shown windows left alone: nothing changed in them
  std::uint64_t bytes_damaged = 0;
  std::uint64_t bytes_uploaded = 0;
  std::uint64_t upload_rects = 0;
  std::uint64_t cpu_waits = 0;
  std::uint64_t damage_clipped = 0;      // presents whose damage reached outside the framebuffer
  std::uint64_t damage_merged = 0;       // times a rectangle cap merged damage to its bounds
  std::uint64_t refused = 0;             // requests refused (Scene::refused() + bad sources)
  std::uint64_t backend_errors = 0;      // backend failures on a window (logged, window skipped)
  std::uint64_t over_budget = 0;         // windows parked + resizes deferred: the pixel budget was full
  // Gauges at the time of stats(): pixels of the drawables that exist, the budget (0: none), and
  // how many windows are parked (no drawable).
  std::uint64_t window_pixels = 0;
  std::uint64_t window_pixel_budget = 0;
  std::uint64_t windows_parked = 0;
};

struct PresentResult {
  UploadStats upload;
  std::uint32_t windows_presented = 0;
  std::uint32_t windows_skipped = 0;
};

class Compositor {
 public:
  static constexpr std::size_t kMaxPendingRects = 4096;  // pending damage merges past this

  static Result<std::unique_ptr<Compositor>> create(std::unique_ptr<Backend> backend,
                                                    const CompositorConfig& config = {});
  ~Compositor();
  Compositor(const Compositor&) = delete;
  Compositor& operator=(const Compositor&) = delete;

  // Over the pixel budget the window is created parked (see above) and this still succeeds.
  Result<void> create_window(WindowId id, const WindowDesc& desc);
  Result<void> destroy_window(WindowId id);
  // A drawn window that would exceed the pixel budget moves but keeps its size (deferred).
  Result<void> set_rect(WindowId id, const DesktopRect& rect);
  Result<void> set_title(WindowId id, std::string_view title);
  Result<void> set_icon(WindowId id, Icon icon);
  Result<void> set_state(WindowId id, WindowState state);
  Result<void> set_owner(WindowId id, WindowId owner);
  Result<void> set_visible(WindowId id, bool visible);
  Result<void> set_visible_region(WindowId id, const WindowRegion& region);  // window coords
  void set_z_order(std::span<const WindowId> top_to_bottom);
  Result<void> raise(WindowId id);

  // Marks desktop pixels as changed in the framebuffer the next present() reads.
  void damage(const DesktopRect& rect);
  void damage(const DamageRegion& region);
  void damage(std::span<const DesktopRect> rects);  // one paint's rectangles (rdpmux damaged())

  // The guest activated a window (RAIL activation): raise it and give it keyboard focus.
  Result<void> activate(WindowId id);

  // Uploads the pending damage from `framebuffer` (caller-owned, read during this call only),
  // then draws and swaps every shown window that the damage touches or that changed (new,
  // moved, resized, re-shaped, exposed); all other windows are skipped. The first present
  // after creation or a framebuffer size change uploads the whole frame.
  Result<PresentResult> present(const PixelSource& framebuffer);
  // Waits until the GPU finished everything issued (benchmarks, tests, screenshots).
  void finish();

  // A framebuffer in persistently mapped upload memory (see TextureUploader::map_framebuffer):
  // a producer that decodes into it makes present() copy nothing on the CPU.
  Result<MappedFramebuffer> map_framebuffer(std::int32_t width, std::int32_t height, std::size_t stride = 0);
  // Blocks until the GPU has read every upload so far; call before rewriting pixels of a
  // mapped framebuffer when a torn intermediate frame is not acceptable.
  void wait_uploads_idle();

  // Changes the pixel budget (0: none). Pixels in use above a lowered budget are not taken back;
  // only new ones are refused until enough are freed. A raised budget admits waiting windows.
  void set_window_pixel_budget(std::uint64_t pixels);
  [[nodiscard]] std::uint64_t window_pixel_budget() const { return budget_; }
  // Pixels (width x height, summed) of the drawables that exist now.
  [[nodiscard]] std::uint64_t window_pixels() const { return window_pixels_; }
  // The window waits for the budget: parked (no drawable) or drawn at an older size.
  [[nodiscard]] bool over_budget(WindowId id) const { return parked_.contains(id) || deferred_.contains(id); }
  [[nodiscard]] bool parked(WindowId id) const { return parked_.contains(id); }
  // Windows parked or with a deferred size.
  [[nodiscard]] std::size_t waiting_for_budget() const { return parked_.size() + deferred_.size(); }

  [[nodiscard]] const Scene& scene() const { return scene_; }
  [[nodiscard]] Backend& backend() { return *backend_; }
  // Read-only: the uploader's GL calls need this compositor's context, which only the
  // Compositor's own methods make current.
  [[nodiscard]] const TextureUploader& uploader() const { return *uploader_; }
  [[nodiscard]] const CompositorStats& stats() const;
  [[nodiscard]] bool debug_damage() const { return debug_damage_; }
  [[nodiscard]] const DamageRegion& pending_damage() const { return pending_; }

 private:
  Compositor() = default;
  Result<void> changed(WindowId id, ChangeMask changes, bool redraw);
  [[nodiscard]] bool fits(std::uint64_t more_pixels) const {
    return budget_ == 0 || window_pixels_ + more_pixels <= budget_;
  }
  // Gives drawables to parked windows and deferred sizes that fit now, topmost first.
  void admit_waiting();

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<TextureUploader> uploader_;
  std::unique_ptr<Renderer> renderer_;
  Scene scene_;
  TileHasher hasher_;
  CompositorConfig config_;
  DamageRegion pending_;
  std::vector<WindowId> redraw_;  // windows to draw at the next present regardless of damage
  mutable CompositorStats stats_;
  bool debug_damage_ = false;
  // Window pixel budget. A window is drawn (it has a drawable of its scene size) or parked; a drawn
  // window's deferred size is what its last set_rect() asked for.
  struct Size {
    std::int32_t width = 0;
    std::int32_t height = 0;
  };
  std::uint64_t budget_ = 0;
  std::uint64_t window_pixels_ = 0;
  std::unordered_set<WindowId> parked_;
  std::unordered_map<WindowId, Size> deferred_;
};

}  // namespace vitrine::compositor
