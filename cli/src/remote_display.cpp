#include "remote_display.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <winpr/input.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <utility>

#include "vitrine/compositor/headless_backend.hpp"
#include "vitrine/compositor/image.hpp"
#include "vitrine/compositor/x11_backend.hpp"

namespace vitrine::cli {

namespace rh = rdpmux::host;
namespace comp = compositor;

namespace {

constexpr std::size_t kFramebufferAlign = 64;  // cache line; DisplaySink asks for >= 16

comp::DesktopRect to_comp(const rh::DesktopRect& r) {
  return {r.x, r.y, static_cast<std::int32_t>(std::min<std::uint32_t>(r.width, INT32_MAX)),
          static_cast<std::int32_t>(std::min<std::uint32_t>(r.height, INT32_MAX))};
}

rh::DesktopRect to_rdp(const comp::DesktopRect& r) {
  return {r.x, r.y, static_cast<std::uint32_t>(std::max(r.width, 0)), static_cast<std::uint32_t>(std::max(r.height, 0))};
}

// docs/compositor.md "Adapting rdpmux": popups without a caption are menus/lists, tool windows
// without one are tooltips; tool windows with a caption are utility windows.
comp::WindowKind kind_of(const rh::WindowState& s) {
  const bool caption = (s.style & rh::style::kCaption) == rh::style::kCaption;
  if (s.popup() && !caption) return s.tool_window() ? comp::WindowKind::kTooltip : comp::WindowKind::kPopup;
  if (s.tool_window()) return caption ? comp::WindowKind::kTool : comp::WindowKind::kTooltip;
  return comp::WindowKind::kNormal;
}

comp::WindowState state_of(rh::ShowState show) {
  switch (show) {
    case rh::ShowState::kMinimized: return comp::WindowState::kMinimized;
    case rh::ShowState::kMaximized: return comp::WindowState::kMaximized;
    default: return comp::WindowState::kNormal;
  }
}

comp::WindowRegion region_of(const rh::WindowState& s) {
  comp::WindowRegion region;
  for (const auto& r : s.window_rects) {
    if (r.right > r.left && r.bottom > r.top) region.add(comp::WindowRect{r.left, r.top, r.right - r.left, r.bottom - r.top});
  }
  if (region.empty())
    region.add(comp::WindowRect{0, 0, static_cast<std::int32_t>(s.frame.width), static_cast<std::int32_t>(s.frame.height)});
  return region;
}

comp::Icon icon_of(const rh::Icon& icon) {
  comp::Icon out;
  const std::size_t n = static_cast<std::size_t>(icon.width) * icon.height;
  if (icon.width == 0 || icon.height == 0 || icon.bgra.size() < n * 4) return out;
  out.width = static_cast<std::int32_t>(icon.width);
  out.height = static_cast<std::int32_t>(icon.height);
  out.argb.resize(n);
  // Straight BGRA bytes read as a little-endian uint32 are 0xAARRGGBB, _NET_WM_ICON's layout.
  std::memcpy(out.argb.data(), icon.bgra.data(), n * 4);
  return out;
}

// "xterm: ~/src" -> "xterm-src": file-name-safe and short.
std::string slug(const std::string& title) {
  std::string out;
  for (char c : title) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    if (ok) out += c;
    else if (!out.empty() && out.back() != '-') out += '-';
    if (out.size() >= 40) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "window" : out;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// X keycode (evdev + 8) -> RDP scancode through WinPR's tables (the same ones xfreerdp uses).
std::optional<rh::Scancode> scancode_of(std::uint32_t x11_keycode) {
  const DWORD vk = GetVirtualKeyCodeFromKeycode(x11_keycode, KEYCODE_TYPE_EVDEV);
  if (vk == 0) return std::nullopt;
  const DWORD sc = GetVirtualScanCodeFromVirtualKeyCode(vk, 4);  // 4: IBM enhanced (101/102) keyboard
  if ((sc & 0xFF) == 0) return std::nullopt;
  return rh::Scancode{static_cast<std::uint8_t>(sc & 0xFF), (sc & KBDEXT) != 0};
}

}  // namespace


std::expected<std::unique_ptr<RemoteDisplay>, std::string> RemoteDisplay::create(const RemoteDisplayOptions& options) {
  std::unique_ptr<RemoteDisplay> d(new RemoteDisplay());
  d->options_ = options;
  d->wake_ = ringbus::UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!d->wake_) return std::unexpected(std::string("eventfd: ") + std::strerror(errno));

  std::unique_ptr<comp::Backend> backend;
  if (options.headless) {
    auto b = comp::HeadlessBackend::create();
    if (!b) return std::unexpected("off-screen rendering (EGL surfaceless, Mesa) failed: " + comp::to_string(b.error()));
    d->headless_ = b->get();
    backend = std::move(*b);
  } else {
    comp::X11Config config;
    config.display = options.x_display;
    config.sink = d.get();
    auto b = comp::X11Backend::create(config);
    if (!b) return std::unexpected("cannot open the X display: " + comp::to_string(b.error()));
    d->x11_ = b->get();
    d->host_desktop_pixels_ = static_cast<std::uint64_t>(d->x11_->screen().area());
    backend = std::move(*b);
  }
  auto c = comp::Compositor::create(std::move(backend));
  if (!c) return std::unexpected("compositor: " + comp::to_string(c.error()));
  d->compositor_ = std::move(*c);
  if (options.max_window_pixels != 0) d->compositor_->set_window_pixel_budget(options.max_window_pixels);
  else d->set_auto_budget();
  return d;
}

// The default budget follows the larger desktop: windows as big as the guest's desktop must fit
// even on a smaller host screen, and a headless session has only the guest's.
void RemoteDisplay::set_auto_budget() {
  const std::uint64_t session = fb_.pixels != nullptr ? static_cast<std::uint64_t>(fb_.width) * fb_.height
                                                      : RemoteDisplayOptions::kFallbackDesktopPixels;
  compositor_->set_window_pixel_budget(RemoteDisplayOptions::kDefaultBudgetDesktops *
                                       std::max(session, host_desktop_pixels_));
}

bool RemoteDisplay::RefusalLog::take(rh::WindowId id, Kind kind, std::uint64_t& unlogged) {
  if (logged_.contains({id, kind})) return false;  // said once for this window already
  const auto now = std::chrono::steady_clock::now();
  if (now - second_ >= std::chrono::seconds(1)) {
    second_ = now;
    lines_ = 0;
  }
  if (lines_ >= kLinesPerSecond) {
    ++unlogged_;  // not marked: a later refusal of this window may still get its line
    return false;
  }
  ++lines_;
  logged_.insert({id, kind});
  unlogged = std::exchange(unlogged_, 0);
  return true;
}

void RemoteDisplay::RefusalLog::forget(rh::WindowId id) {
  logged_.erase({id, Kind::kRequest});
  logged_.erase({id, Kind::kBudget});
}

RemoteDisplay::~RemoteDisplay() {
  shutdown();
  surface_receiver_.reset();
  surface_pump_.reset();
  compositor_.reset();  // GL objects go before the framebuffer they may reference
}

std::vector<int> RemoteDisplay::wake_fds() const {
  std::vector<int> fds{wake_.get()};
  if (x11_ != nullptr) fds.push_back(x11_->connection_fd());
  if (surface_receiver_ && surface_receiver_->wake_fd() >= 0) fds.push_back(surface_receiver_->wake_fd());
  return fds;
}

void RemoteDisplay::shutdown() {
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    queue_.clear();
  }
  applied_cv_.notify_all();
}

// ---- session thread --------------------------------------------------------------------------

std::uint64_t RemoteDisplay::post_locked(Event event, std::unique_lock<std::mutex>& lock) {
  (void)lock;
  if (shut_down_) return 0;
  const std::uint64_t seq = ++posted_;
  queue_.emplace_back(seq, std::move(event));
  const std::uint64_t one = 1;
  if (::write(wake_.get(), &one, sizeof one) < 0 && errno != EAGAIN)
    spdlog::warn("display: cannot wake the UI thread: {}", std::strerror(errno));
  return seq;
}

void RemoteDisplay::post(Event event) {
  std::unique_lock lock(mutex_);
  (void)post_locked(std::move(event), lock);
}

void RemoteDisplay::post_and_wait(Event event) {
  std::unique_lock lock(mutex_);
  const std::uint64_t seq = post_locked(std::move(event), lock);
  if (seq == 0) return;
  if (!applied_cv_.wait_for(lock, options_.callback_timeout, [&] { return shut_down_ || applied_ >= seq; })) {
    ++stats_.callback_timeouts;
    spdlog::warn("display: the UI thread did not apply a session event within {} ms; going on",
                 options_.callback_timeout.count());
  }
}

// Allocated here, on the session thread, so a busy UI thread cannot make FreeRDP wait or hand
// it a buffer that is about to be freed; the UI thread shares it from framebuffer_changed() on.
std::span<std::byte> RemoteDisplay::provide_framebuffer(std::uint32_t width, std::uint32_t height,
                                                        std::uint32_t stride) {
  const std::size_t bytes = static_cast<std::size_t>(stride) * height;
  const std::size_t rounded = (bytes + kFramebufferAlign - 1) / kFramebufferAlign * kFramebufferAlign;
  session_fb_.reset();  // FreeRDP moves to the new buffer; the UI thread may still hold the old one
  if (rounded == 0) return {};
  void* p = std::aligned_alloc(kFramebufferAlign, rounded);
  if (p == nullptr) {
    spdlog::warn("display: cannot allocate a {}x{} framebuffer; FreeRDP allocates it", width, height);
    return {};
  }
  std::memset(p, 0, rounded);
  session_fb_ = SharedPixels(static_cast<std::byte*>(p), [](std::byte* b) { std::free(b); });
  return {session_fb_.get(), bytes};
}

void RemoteDisplay::framebuffer_changed(const rh::FramebufferView& framebuffer) {
  (void)read_clock_->take();  // the connection handshake is not a paint's read time
  if (session_fb_ && framebuffer.pixels == session_fb_.get()) {
    post(FramebufferChanged{framebuffer, session_fb_});
  } else {
    // FreeRDP's own memory lives as FreeRDP decides: the UI thread must have moved to it
    // before the session goes on (and frees the previous one).
    post_and_wait(FramebufferChanged{framebuffer, nullptr});
  }
}

void RemoteDisplay::damaged(const rh::FramebufferView& framebuffer, std::span<const rh::DesktopRect> rects) {
  (void)framebuffer;  // the same memory framebuffer_changed() announced
  const auto taken = read_clock_->take();
  post_and_wait(Damage{{rects.begin(), rects.end()}, perf::monotonic_ns(), taken.read_ns, taken.guest_receive_ns});
}

void RemoteDisplay::guest_stamp(const rdpmux::GuestStamp& stamp) {
  telemetry_.stage(perf::Stage::kGuestReceiveToCommit).record(stamp.guest_receive_to_commit_ns);
  telemetry_.stage(perf::Stage::kCommitToHostRead).record(stamp.commit_to_read_ns());
  read_clock_->on_guest_stamp(stamp.read_ns, stamp.receive_ns);
}

void RemoteDisplay::window_created(const rh::WindowState& state) { post(Created{state}); }
void RemoteDisplay::window_changed(const rh::WindowState& state, std::uint32_t what) {
  post(Changed{state, what});
}
void RemoteDisplay::window_deleted(rh::WindowId id) { post(Deleted{id}); }
void RemoteDisplay::z_order_changed(std::span<const rh::WindowId> top_to_bottom) {
  post(ZOrder{{top_to_bottom.begin(), top_to_bottom.end()}});
}
void RemoteDisplay::active_window_changed(rh::WindowId id) { post(Active{id}); }

// Notification-area icons have no host surface here (no tray protocol in the compositor); they
// are logged so a user can see the guest published one.
void RemoteDisplay::notify_icon_changed(const rh::NotifyIconState& state) {
  spdlog::debug("display: guest notification icon {}/{} \"{}\" (not shown: no host tray support)", state.window,
                state.icon_id, state.tooltip);
}
void RemoteDisplay::notify_icon_deleted(rh::WindowId window, std::uint32_t icon_id) {
  spdlog::debug("display: guest notification icon {}/{} removed", window, icon_id);
}
// The guest asks for a host-driven move/size loop. The host window manager already moves our
// windows (on_move_resize reports the result to the guest), so the request is only logged.
void RemoteDisplay::local_move_size(const rh::LocalMoveSize& request) {
  spdlog::debug("display: guest {} local move/size of window {} (type {})", request.start ? "starts" : "ends",
                request.window, request.type);
}

// ---- UI thread -------------------------------------------------------------------------------

comp::PixelSource RemoteDisplay::source() const {
  return {fb_.pixels, static_cast<std::int32_t>(fb_.width), static_cast<std::int32_t>(fb_.height), fb_.stride};
}

void RemoteDisplay::dispatch() {
  std::uint64_t count = 0;
  (void)::read(wake_.get(), &count, sizeof count);
  if (x11_ != nullptr) x11_->dispatch_events();

  // Take what is queued; the session thread waits for exactly these.
  std::deque<std::pair<std::uint64_t, Event>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(queue_);
  }
  std::uint64_t last = 0;
  for (auto& [seq, event] : batch) {
    apply(event);
    last = seq;
  }
  pump_surfaces();
  // Presenting before the waiters are released is the point (see the header): the uploads read
  // the framebuffer while FreeRDP cannot write it. Exposes are redrawn here too.
  if (need_present_ || x11_ != nullptr) present();
  if (last != 0) {
    {
      std::lock_guard lock(mutex_);
      applied_ = std::max(applied_, last);
      stats_.callbacks += batch.size();
      stats_.compositor = compositor_->stats();
    }
    applied_cv_.notify_all();
  }
  maybe_write_screenshots();
}

void RemoteDisplay::apply(Event& event) {
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, FramebufferChanged>) {
          fb_ = e.view;
          fb_owner_ = std::move(e.owner);  // the previous buffer goes when the session let go too
          if (options_.max_window_pixels == 0) {
            const bool waited = compositor_->waiting_for_budget() != 0;
            set_auto_budget();  // the session's desktop size is known now
            if (waited) refresh_budget_flags();
          }
          compositor_->damage(comp::DesktopRect{0, 0, static_cast<std::int32_t>(fb_.width),
                                                static_cast<std::int32_t>(fb_.height)});
          need_present_ = true;
        } else if constexpr (std::is_same_v<T, Damage>) {
          for (const auto& r : e.rects) compositor_->damage(to_comp(r));
          need_present_ = true;
          if (oldest_paint_ns_ == 0) {
            oldest_paint_ns_ = e.posted_ns;
            oldest_guest_receive_ns_ = e.guest_receive_ns;
          }
          if (e.read_ns != 0 && e.read_ns <= e.posted_ns)
            telemetry_.stage(perf::Stage::kHostReadToPaint).record(e.posted_ns - e.read_ns);
          std::lock_guard lock(mutex_);
          ++stats_.paints;
        } else if constexpr (std::is_same_v<T, Created>) {
          const bool waited = compositor_->waiting_for_budget() != 0;
          apply_window(e.state, ~0u, true);
          if (surface_pump_) surface_pump_->window_created(e.state.id);
          if (waited) refresh_budget_flags();
        } else if constexpr (std::is_same_v<T, Changed>) {
          const bool waited = compositor_->waiting_for_budget() != 0;
          apply_window(e.state, e.what, false);
          if (waited) refresh_budget_flags();
        } else if constexpr (std::is_same_v<T, Deleted>) {
          const bool waited = compositor_->waiting_for_budget() != 0;
          if (surface_pump_) surface_pump_->window_deleted(e.id);
          (void)compositor_->destroy_window(e.id);
          refusal_log_.forget(e.id);
          {
            std::lock_guard lock(mutex_);
            shown_.erase(e.id);
          }
          if (waited) refresh_budget_flags();
          need_present_ = true;
        } else if constexpr (std::is_same_v<T, ZOrder>) {
          std::vector<comp::WindowId> ids(e.top_to_bottom.begin(), e.top_to_bottom.end());
          std::erase_if(ids, [&](comp::WindowId id) { return compositor_->scene().find(id) == nullptr; });
          compositor_->set_z_order(ids);
        } else if constexpr (std::is_same_v<T, Active>) {
          if (e.id != rh::kNoWindow && compositor_->scene().find(e.id) != nullptr) (void)compositor_->activate(e.id);
        }
      },
      event);
  shots_dirty_ = true;
  last_change_ = std::chrono::steady_clock::now();
}

void RemoteDisplay::apply_window(const rh::WindowState& s, std::uint32_t what, bool created) {
  auto refused = [&](const char* what_failed, const comp::Error& error) {
    std::uint64_t unlogged = 0;
    if (refusal_log_.take(s.id, RefusalLog::Kind::kRequest, unlogged))
      spdlog::warn("display: window {} ({}): {}: {}{}", s.id, s.title, what_failed, comp::to_string(error),
                   unlogged == 0 ? std::string() : fmt::format(" ({} more refusals not logged)", unlogged));
    std::lock_guard lock(mutex_);
    ++stats_.refused;
  };
  const bool visible = s.show != rh::ShowState::kHidden && s.frame.width > 0 && s.frame.height > 0;
  if (created || compositor_->scene().find(s.id) == nullptr) {
    comp::WindowDesc desc;
    desc.rect = to_comp(s.frame);
    desc.kind = kind_of(s);
    desc.title = s.title;
    desc.owner = s.owner;
    desc.state = state_of(s.show);
    desc.visible = visible;
    if (desc.rect.empty()) desc.rect.width = desc.rect.height = 1;  // the compositor needs a size
    if (auto r = compositor_->create_window(s.id, desc); !r) return refused("create", r.error());
    what = ~0u;
  } else {
    using namespace rh::changed;
    if ((what & (kFramePosition | kFrameSize)) != 0 && s.frame.width > 0 && s.frame.height > 0)
      if (auto r = compositor_->set_rect(s.id, to_comp(s.frame)); !r) refused("move/resize", r.error());
    if ((what & kTitle) != 0)
      if (auto r = compositor_->set_title(s.id, s.title); !r) refused("title", r.error());
    if ((what & kOwner) != 0)
      if (auto r = compositor_->set_owner(s.id, s.owner); !r) refused("owner", r.error());
    if ((what & kShow) != 0) {
      if (auto r = compositor_->set_visible(s.id, visible); !r) refused("visibility", r.error());
      if (visible)
        if (auto r = compositor_->set_state(s.id, state_of(s.show)); !r) refused("state", r.error());
    }
  }
  if ((what & (rh::changed::kWindowRects | rh::changed::kFrameSize)) != 0)
    if (auto r = compositor_->set_visible_region(s.id, region_of(s)); !r) refused("shape", r.error());
  if ((what & rh::changed::kIcon) != 0) {
    const auto& icon = s.big_icon ? s.big_icon : s.small_icon;
    if (icon)
      if (auto r = compositor_->set_icon(s.id, icon_of(*icon)); !r) refused("icon", r.error());
  }
  need_present_ = true;
  const bool over_budget = compositor_->over_budget(s.id);
  if (over_budget) {
    std::uint64_t unlogged = 0;
    if (refusal_log_.take(s.id, RefusalLog::Kind::kBudget, unlogged)) {
      const bool parked = compositor_->parked(s.id);
      spdlog::warn("display: window {} ({}) {}x{}: over the window pixel budget ({} of {} pixels in use); {} until "
                   "other windows close or shrink{}",
                   s.id, s.title, s.frame.width, s.frame.height, compositor_->window_pixels(),
                   compositor_->window_pixel_budget(), parked ? "not shown" : "kept at its old size",
                   unlogged == 0 ? std::string() : fmt::format(" ({} more refusals not logged)", unlogged));
    }
  }
  DisplayedWindow shown{s.id, s.title, s.frame, visible && s.show != rh::ShowState::kMinimized, 0, over_budget};
  if (x11_ != nullptr) shown.x11_window = x11_->native_window(s.id);
  std::lock_guard lock(mutex_);
  shown_[s.id] = std::move(shown);
}

void RemoteDisplay::refresh_budget_flags() {
  std::lock_guard lock(mutex_);
  for (auto& [id, w] : shown_) {
    w.over_budget = compositor_->over_budget(id);
    if (x11_ != nullptr) w.x11_window = x11_->native_window(id);
  }
}

void RemoteDisplay::present() {
  need_present_ = false;
  const bool surfaces = surface_pump_ != nullptr;
  if (fb_.pixels == nullptr && !surfaces) return;
  const std::uint64_t start = perf::monotonic_ns();
  // With surfaces and no RDP framebuffer yet (or none at all) the windows draw their own pixels.
  auto r = fb_.pixels != nullptr ? compositor_->present(source()) : compositor_->present();
  if (surfaces) surface_presented(start);
  if (oldest_paint_ns_ != 0) {
    const std::uint64_t end = perf::monotonic_ns();
    telemetry_.stage(perf::Stage::kPaintToUpload).record(start - std::min(start, oldest_paint_ns_));
    telemetry_.stage(perf::Stage::kUploadToPresent).record(end - start);
    if (oldest_guest_receive_ns_ != 0 && oldest_guest_receive_ns_ <= end)
      telemetry_.stage(perf::Stage::kEndToEnd).record(end - oldest_guest_receive_ns_);
    oldest_paint_ns_ = oldest_guest_receive_ns_ = 0;
  }
  std::lock_guard lock(mutex_);
  ++stats_.presents;
  if (!r) spdlog::warn("display: present: {}", comp::to_string(r.error()));
}

void RemoteDisplay::maybe_write_screenshots() {
  if (headless_ == nullptr || options_.screenshot_dir.empty() || !shots_dirty_) return;
  if (std::chrono::steady_clock::now() - last_change_ < options_.screenshot_quiet) return;
  shots_dirty_ = false;
  if (auto r = write_screenshots(options_.screenshot_dir); !r) spdlog::warn("display: screenshots: {}", r.error());
}

std::expected<std::vector<std::filesystem::path>, std::string> RemoteDisplay::write_screenshots(
    const std::filesystem::path& dir) {
  if (headless_ == nullptr) return std::unexpected(std::string("screenshots are written in headless mode only"));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected("cannot create " + dir.string() + ": " + ec.message());
  compositor_->finish();
  std::vector<std::filesystem::path> written;
  std::string index = "[\n";
  const auto list = windows();
  for (const auto& w : list) {
    if (!w.visible) continue;
    auto image = headless_->read_back(w.id);
    if (!image) continue;  // not presented yet
    const auto file = dir / ("window-" + std::to_string(w.id) + "-" + slug(w.title) + ".png");
    const auto tmp = file.string() + ".tmp";
    if (auto r = comp::write_png(*image, tmp); !r) return std::unexpected(comp::to_string(r.error()));
    std::filesystem::rename(tmp, file, ec);  // readers never see a half-written PNG
    if (ec) return std::unexpected("rename " + tmp + ": " + ec.message());
    written.push_back(file);
    if (index.size() > 2) index += ",\n";
    index += "  {\"id\": " + std::to_string(w.id) + ", \"title\": \"" + json_escape(w.title) +
             "\", \"x\": " + std::to_string(w.frame.x) + ", \"y\": " + std::to_string(w.frame.y) +
             ", \"width\": " + std::to_string(w.frame.width) + ", \"height\": " + std::to_string(w.frame.height) +
             ", \"file\": \"" + json_escape(file.filename().string()) + "\"}";
  }
  index += "\n]\n";
  const auto index_file = dir / "windows.json";
  {
    std::ofstream out(index_file.string() + ".tmp", std::ios::trunc);
    out << index;
    if (!out) return std::unexpected("cannot write " + index_file.string());
  }
  std::filesystem::rename(index_file.string() + ".tmp", index_file, ec);
  if (ec) return std::unexpected("rename " + index_file.string() + ": " + ec.message());
  std::lock_guard lock(mutex_);
  stats_.screenshots += written.size();
  return written;
}

std::vector<DisplayedWindow> RemoteDisplay::windows() const {
  std::lock_guard lock(mutex_);
  std::vector<DisplayedWindow> out;
  out.reserve(shown_.size());
  for (const auto& [id, w] : shown_) out.push_back(w);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

RemoteDisplayStats RemoteDisplay::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

// ---- host input (UI thread) -----------------------------------------------------------------

void RemoteDisplay::on_key(const comp::KeyEvent& event) {
  if (input_ == nullptr) return;
  const auto code = scancode_of(event.x11_keycode);
  if (!code) {
    spdlog::debug("display: X keycode {} has no RDP scancode; dropped", event.x11_keycode);
    return;
  }
  input_->key(*code, event.pressed);
  std::lock_guard lock(mutex_);
  ++stats_.input_events;
}

void RemoteDisplay::on_pointer_motion(const comp::PointerEvent& event) {
  if (input_ == nullptr) return;
  input_->mouse_move({event.desktop.x, event.desktop.y});
}

void RemoteDisplay::on_button(const comp::ButtonEvent& event) {
  if (input_ == nullptr) return;
  rh::MouseButton button;
  switch (event.button) {
    case comp::PointerButton::kLeft: button = rh::MouseButton::kLeft; break;
    case comp::PointerButton::kMiddle: button = rh::MouseButton::kMiddle; break;
    case comp::PointerButton::kRight: button = rh::MouseButton::kRight; break;
    case comp::PointerButton::kBack: button = rh::MouseButton::kX1; break;
    case comp::PointerButton::kForward: button = rh::MouseButton::kX2; break;
    default: return;
  }
  input_->mouse_button(button, event.pressed, {event.where.desktop.x, event.where.desktop.y});
  std::lock_guard lock(mutex_);
  ++stats_.input_events;
}

void RemoteDisplay::on_wheel(const comp::WheelEvent& event) {
  if (input_ == nullptr) return;
  const rh::DesktopPoint at{event.where.desktop.x, event.where.desktop.y};
  // X: dy > 0 is down (towards the user); RDP: positive is away from the user. 120 per notch.
  if (event.dy != 0) input_->wheel(rh::WheelAxis::kVertical, -event.dy * 120, at);
  if (event.dx != 0) input_->wheel(rh::WheelAxis::kHorizontal, event.dx * 120, at);
}

void RemoteDisplay::on_focus(comp::WindowId window, bool focused) {
  if (input_ != nullptr) input_->activate(static_cast<rh::WindowId>(window), focused);
}

void RemoteDisplay::on_move_resize(comp::WindowId window, const comp::DesktopRect& rect) {
  if (input_ != nullptr) input_->window_move(static_cast<rh::WindowId>(window), to_rdp(rect));
}

void RemoteDisplay::on_close_request(comp::WindowId window) {
  if (input_ != nullptr) input_->system_command(static_cast<rh::WindowId>(window), rh::SystemCommand::kClose);
}

void RemoteDisplay::on_state_request(comp::WindowId window, comp::WindowState state) {
  if (input_ == nullptr) return;
  rh::SystemCommand command = rh::SystemCommand::kRestore;
  if (state == comp::WindowState::kMinimized) command = rh::SystemCommand::kMinimize;
  else if (state == comp::WindowState::kMaximized || state == comp::WindowState::kFullscreen)
    command = rh::SystemCommand::kMaximize;
  input_->system_command(static_cast<rh::WindowId>(window), command);
}

}  // namespace vitrine::cli
