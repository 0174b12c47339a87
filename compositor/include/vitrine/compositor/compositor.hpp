// The compositor's public API: what rdpmux's window/damage events (adapted by cli/) drive.
//
//   auto comp = Compositor::create(X11Backend::create(...) or HeadlessBackend::create());
//   WindowDesc desc; desc.rect = {x, y, w, h}; desc.title = "...";
//   comp->create_window(id, desc);
//   comp->damage(DesktopRect{...});          // as often as the producer paints
//   comp->present(framebuffer);              // once per display frame: upload + draw
//   comp->attach_surface(id, w, h);          // or: the window has its own pixels (bus surface)
//   comp->upload_surface(id, pixels, rects); //   as often as the guest paints it
//   comp->present();                         //   no framebuffer needed when every window has one
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
//
// Surfaces: a window may be painted from its own pixels (a per-window buffer the guest writes,
// BGRA8888) instead of its rectangle of the desktop framebuffer: attach_surface() gives it a
// texture of its own, upload_surface() copies damaged rectangles into it (once per byte, by GL,
// straight from the caller's memory), present() draws it like any other window (visibility,
// visible region, stacking, debug tint).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "vitrine/compositor/backend.hpp"
#include "vitrine/compositor/damage_region.hpp"
#include "vitrine/compositor/pixel_source.hpp"
#include "vitrine/compositor/scene.hpp"
#include "vitrine/compositor/texture_uploader.hpp"
#include "vitrine/compositor/tile_hasher.hpp"
#include "vitrine/compositor/window_guard.hpp"
#include "vitrine/compositor/window_label.hpp"

namespace vitrine::compositor {

class Renderer;
class RetiringPixels;
class SurfaceTexture;

struct CompositorConfig {
  UploadPath upload_path = UploadPath::kAuto;
  std::size_t max_upload_rects = TextureUploader::kDefaultMaxRects;
  bool tile_hashing = false;         // drop damage whose 64x64 tiles did not change (TileHasher)
  std::optional<bool> debug_damage;  // tint uploads magenta; unset = env VITRINE_DEBUG_DAMAGE=1
  // Most pixels (width x height, summed over windows) of host drawables at once; 0: no budget.
  std::uint64_t max_window_pixels = 0;
  // The VM's label (window_label.hpp): border and title prefix on every window. None: windows
  // are shown unmarked (tests, benchmarks); a guest session always sets one.
  std::optional<WindowLabel> label;
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
  std::uint64_t retire_fences = 0;       // fences placed after deleted drawables (RetiringPixels)
  // Gauges at the time of stats(): pixels of the drawables that exist, the budget (0: none), and
  // how many windows are parked (no drawable).
  std::uint64_t window_pixels = 0;
  std::uint64_t window_pixel_budget = 0;
  std::uint64_t windows_parked = 0;
  std::uint64_t retiring_pixels = 0;     // deleted drawables the GL driver may still hold (budgeted)
  // Surfaces: upload_surface() calls that uploaded something, the bytes they uploaded (one GL
  // copy each, from the caller's memory) and the damaged bytes they were given (overlaps counted
  // once; equal to the uploaded bytes unless a rectangle cap merged), and a gauge at the time of
  // stats(): windows with a surface.
  std::uint64_t surface_uploads = 0;
  std::uint64_t surface_bytes_uploaded = 0;
  std::uint64_t surface_bytes_damaged = 0;
  std::uint64_t surfaces = 0;
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

  // The guest activated a window (RAIL activation): raise it and give it keyboard focus. The
  // caller decides whether the guest may (viewer: only in answer to host input); else it asks
  // for attention instead.
  Result<void> activate(WindowId id);
  // Asks the user to look at the window without focusing or raising it (X11: the urgency hint
  // and _NET_WM_STATE_DEMANDS_ATTENTION, cleared when the window gets focus).
  Result<void> demand_attention(WindowId id);
  // The host's monitors as last read from the backend (window_guard.hpp); empty: unknown.
  [[nodiscard]] const std::vector<Monitor>& monitors() const { return monitors_; }

  // Uploads the pending damage from `framebuffer` (caller-owned, read during this call only),
  // then draws and swaps every shown window that the damage touches or that changed (new,
  // moved, resized, re-shaped, exposed); all other windows are skipped. The first present
  // after creation or a framebuffer size change uploads the whole frame.
  Result<PresentResult> present(const PixelSource& framebuffer);
  // The upload half of present(framebuffer) on its own: copies the pending damage out of
  // `framebuffer` now (read during this call only) and leaves the draw to the next present().
  // For a producer that writes the framebuffer on another thread: it keeps off the memory only
  // while this runs, not while windows are drawn and swapped (a swap may wait for vblank).
  Result<UploadStats> upload(const PixelSource& framebuffer);
  // No framebuffer (the session may have none when every window has a surface): draws and swaps
  // the shown windows whose surfaces were uploaded, that upload() touched or that changed since
  // the last present, and uploads nothing to the desktop texture; pending desktop damage waits
  // for upload() or present(framebuffer).
  // A changed window without a surface is drawn from the desktop texture as last uploaded.
  Result<PresentResult> present();
  // Waits until the GPU finished everything issued (benchmarks, tests, screenshots).
  void finish();

  // A window painted from its own pixels (a bus surface) instead of sampling the desktop
  // framebuffer. The surface is width x height pixels in window coordinates (1..16384; it
  // normally equals the window's size: a window larger than its surface shows the surface at its
  // top-left and opaque black elsewhere, a smaller one the surface's top-left part). Re-attaching
  // with a new size replaces the texture (contents undefined until the next upload_surface());
  // with the same size it keeps texture and contents. A parked window may have a surface.
  // Surface textures do not count against the window pixel budget, which covers drawables only.
  // Errors: kNotFound (no such window), kInvalidArgument (size), kLimit (beyond the GL texture
  // size), kGl; all but kGl counted in stats().refused.
  Result<void> attach_surface(WindowId id, std::int32_t width, std::int32_t height);
  // Back to sampling the desktop framebuffer; the window is redrawn at the next present().
  // kNotFound for an unknown window; a window without a surface is left as it is.
  Result<void> detach_surface(WindowId id);
  [[nodiscard]] bool has_surface(WindowId id) const;
  // Uploads `rects` (window coordinates; each clipped to the surface, empty ones skipped; more
  // than max_upload_rects merge to their bounding box) of `pixels` (caller-owned, BGRA8888, the
  // attached surface's width and height, read during this call only) into the window's texture:
  // one glTexSubImage2D per rectangle straight from `pixels` with its stride (GL's copy is the
  // only one: nothing staged or repacked here), no wait for the GPU. The window is then drawn and
  // swapped at the next present(), even one with no framebuffer damage. Errors: kNotFound (no
  // such window, or no surface attached), kInvalidArgument (invalid source, size mismatch), both
  // counted in stats().refused; kGl.
  Result<UploadStats> upload_surface(WindowId id, const PixelSource& pixels, std::span<const WindowRect> rects);

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
  // Deleted drawables the GL driver may still hold: they count against the budget until a fence
  // placed after their deletion signals (a window destroyed now makes room only then).
  [[nodiscard]] std::uint64_t retiring_pixels() const;
  // UI thread, once per turn: lets go of the deleted drawables the driver finished with and gives
  // waiting windows the room. Never blocks. True when something retired (windows may have been
  // admitted: present again).
  bool retire_freed();
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
  // Recomputes the window's HostFrame (guard_window) and returns what changed on the host side.
  ChangeMask reguard(Window& window);
  // Reguards the windows `owner` owns and updates their host windows (popups follow their owner's
  // monitor). One level: an owned window's own popups follow when they change.
  void reguard_owned(WindowId owner);
  // Re-reads the monitors when the backend says they changed, and reguards every window.
  void refresh_monitors();
  // Whether `more_pixels` fit beside the drawables that exist and those the driver still holds.
  [[nodiscard]] bool fits(std::uint64_t more_pixels) const;
  // Gives drawables to parked windows and deferred sizes that fit now, topmost first.
  void admit_waiting();
  // A drawable of `pixels` was deleted or re-allocated (context current): it counts against the
  // budget until the driver let it go (RetiringPixels).
  void freed(std::uint64_t pixels);
  // Deletes the window's surface texture (with this compositor's context current).
  void drop_surface(WindowId id);
  // Queues exposed windows, then draws and swaps the shown windows that `damage` (desktop
  // coordinates, uploaded to the desktop texture) touches or that must be redrawn.
  Result<PresentResult> draw_windows(const DamageRegion& damage, PresentResult result);
  std::unexpected<Error> refuse(Errc code, std::string message) {
    ++refused_;
    return fail(code, std::move(message));
  }

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<TextureUploader> uploader_;
  std::unique_ptr<Renderer> renderer_;
  Scene scene_;
  TileHasher hasher_;
  CompositorConfig config_;
  DamageRegion pending_;
  DamageRegion uploaded_;  // upload() since the last present: windows it touches get drawn
  std::unordered_set<WindowId> redraw_;  // windows to draw at the next present regardless of damage
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
  std::unique_ptr<RetiringPixels> retiring_;
  std::unordered_set<WindowId> parked_;
  std::unordered_map<WindowId, Size> deferred_;
  // Windows painted from their own pixels (attach_surface), with the compositor's context.
  std::unordered_map<WindowId, std::unique_ptr<SurfaceTexture>> surfaces_;
  std::uint64_t refused_ = 0;  // requests the compositor refused itself (the Scene counts its own)
  std::vector<Monitor> monitors_;
};

}  // namespace vitrine::compositor
