// RemoteDisplay: composes the viewer's parts (see the header). What is left here is the order in
// which a session event reaches them and the UI thread's turn (dispatch()).
#include "vitrine/viewer/remote_display.hpp"

#include <type_traits>
#include <utility>

#include "focus_policy.hpp"
#include "frame_pump.hpp"
#include "input_forwarder.hpp"
#include "stage_clock.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/compositor/headless_backend.hpp"
#include "vitrine/compositor/x11_backend.hpp"
#include "window_mirror.hpp"

namespace vitrine::viewer {

namespace {
// Session events applied per UI turn: at most this many, and no new one once the time is up
// (one event can be a window created with its X window and EGL surface: a millisecond or so).
constexpr std::size_t kEventsPerTurn = 256;
constexpr std::chrono::milliseconds kEventTimePerTurn{8};
}  // namespace

namespace rh = rdpmux::host;
namespace comp = compositor;
using namespace session_event;

RemoteDisplay::RemoteDisplay(const RemoteDisplayOptions& options)
    : options_(options),
      focus_(std::make_unique<FocusPolicy>(options.focus_grace)),
      input_(std::make_unique<InputForwarder>(focus_.get())),
      clock_(std::make_unique<StageClock>()) {}

std::expected<std::unique_ptr<RemoteDisplay>, std::string> RemoteDisplay::create(const RemoteDisplayOptions& options) {
  std::unique_ptr<RemoteDisplay> d(new RemoteDisplay(options));

  std::unique_ptr<comp::Backend> backend;
  if (options.headless) {
    auto b = comp::HeadlessBackend::create();
    if (!b) return std::unexpected("off-screen rendering (EGL surfaceless, Mesa) failed: " + comp::to_string(b.error()));
    d->headless_ = b->get();
    backend = std::move(*b);
  } else {
    comp::X11Config config;
    config.display = options.x_display;
    config.sink = d->input_.get();
    auto b = comp::X11Backend::create(config);
    if (!b) return std::unexpected("cannot open the X display: " + comp::to_string(b.error()));
    d->x11_ = b->get();
    backend = std::move(*b);
  }
  comp::CompositorConfig config;
  config.label = options.label;
  auto c = comp::Compositor::create(std::move(backend), config);
  if (!c) return std::unexpected("compositor: " + comp::to_string(c.error()));
  d->compositor_ = std::move(*c);
  d->mirror_ = std::make_unique<WindowMirror>(*d->compositor_, d->x11_, options.max_window_pixels, *d->focus_);
  auto pump = FramePump::create(*d->compositor_, *d->clock_, options.callback_timeout);
  if (!pump) return std::unexpected(pump.error());
  d->pump_ = std::move(*pump);
  return d;
}

RemoteDisplay::~RemoteDisplay() {
  shutdown();
  if (pump_) pump_->close_surfaces();
  compositor_.reset();  // GL objects go before the framebuffer they may reference (pump_'s)
}

void RemoteDisplay::set_guest_input(GuestInput* input) { input_->set_guest_input(input); }

std::vector<int> RemoteDisplay::wake_fds() const {
  std::vector<int> fds{pump_->wake_fd()};
  if (x11_ != nullptr) fds.push_back(x11_->connection_fd());
  if (const int fd = pump_->surface_wake_fd(); fd >= 0) fds.push_back(fd);
  return fds;
}

void RemoteDisplay::shutdown() {
  if (pump_) pump_->shutdown();
}

// ---- session thread --------------------------------------------------------------------------

std::span<std::byte> RemoteDisplay::provide_framebuffer(std::uint32_t width, std::uint32_t height,
                                                        std::uint32_t stride) {
  return pump_->provide_framebuffer(width, height, stride);
}

void RemoteDisplay::framebuffer_changed(const rh::FramebufferView& framebuffer) {
  pump_->framebuffer_changed(framebuffer);
}

void RemoteDisplay::framebuffer_writes_begin() { pump_->framebuffer_writes_begin(); }
void RemoteDisplay::framebuffer_writes_end() { pump_->framebuffer_writes_end(); }

void RemoteDisplay::damaged(const rh::FramebufferView& framebuffer, std::span<const rh::DesktopRect> rects) {
  (void)framebuffer;  // the same memory framebuffer_changed() announced
  pump_->damaged(rects);
}

void RemoteDisplay::guest_stamp(const rdpmux::GuestStamp& stamp) { clock_->guest_stamp(stamp); }

void RemoteDisplay::window_created(const rh::WindowState& state) { pump_->post(Created{state}); }
void RemoteDisplay::window_changed(const rh::WindowState& state, std::uint32_t what) {
  pump_->post(Changed{state, what});
}
void RemoteDisplay::window_deleted(rh::WindowId id) { pump_->post(Deleted{id}); }
void RemoteDisplay::z_order_changed(std::span<const rh::WindowId> top_to_bottom) {
  pump_->post(ZOrder{{top_to_bottom.begin(), top_to_bottom.end()}});
}
void RemoteDisplay::active_window_changed(rh::WindowId id) { pump_->post(Active{id}); }

// Notification-area icons have no host surface here (no tray protocol in the compositor); they
// are logged so a user can see the guest published one.
void RemoteDisplay::notify_icon_changed(const rh::NotifyIconState& state) {
  base::log_debug("display: guest notification icon {}/{} \"{}\" (not shown: no host tray support)",
                  state.window, state.icon_id, state.tooltip);
}
void RemoteDisplay::notify_icon_deleted(rh::WindowId window, std::uint32_t icon_id) {
  base::log_debug("display: guest notification icon {}/{} removed", window, icon_id);
}
// The guest asks for a host-driven move/size loop. The host window manager already moves our
// windows (on_move_resize reports the result to the guest), so the request is only logged.
void RemoteDisplay::local_move_size(const rh::LocalMoveSize& request) {
  base::log_debug("display: guest {} local move/size of window {} (type {})",
                  request.start ? "starts" : "ends", request.window, request.type);
}

// ---- UI thread -------------------------------------------------------------------------------

// While windows wait for the window pixel budget, every window event may admit some (a close,
// a shrink, a larger desktop): their flags are refreshed after it.
struct RemoteDisplay::EventApplier {
  RemoteDisplay& d;

  void operator()(FramebufferChanged& e) const {
    d.pump_->adopt_framebuffer(e);
    if (d.options_.max_window_pixels == 0) d.mirror_->desktop_changed(e.view);  // its size is known now
    d.pump_->damage_framebuffer();
  }
  void operator()(Damage& e) const {
    d.pump_->damage(e.rects);
    d.clock_->paint_applied(e.posted_ns, e.read_ns, e.guest_receive_ns);
  }
  void operator()(Created& e) const {
    const bool waited = d.mirror_->waiting_for_budget();
    if (d.mirror_->apply(e.state, ~0u, true)) d.pump_->need_present();
    d.pump_->window_created(e.state.id);
    if (waited) d.mirror_->refresh_budget_flags();
    if (e.state.owner == rdpmux::host::kNoWindow && !e.state.popup() && !e.state.tool_window())
      d.top_level_created_.fetch_add(1, std::memory_order_relaxed);
  }
  void operator()(Changed& e) const {
    const bool waited = d.mirror_->waiting_for_budget();
    if (d.mirror_->apply(e.state, e.what, false)) d.pump_->need_present();
    if (waited) d.mirror_->refresh_budget_flags();
  }
  void operator()(Deleted& e) const {
    const bool waited = d.mirror_->waiting_for_budget();
    d.pump_->window_deleted(e.id);
    d.mirror_->remove(e.id);
    if (waited) d.mirror_->refresh_budget_flags();
    d.pump_->need_present();
  }
  void operator()(ZOrder& e) const { d.mirror_->z_order(e.top_to_bottom); }
  void operator()(Active& e) const { d.mirror_->activate(e.id); }
};

void RemoteDisplay::dispatch() {
  pump_->drain_wake();
  if (x11_ != nullptr) x11_->dispatch_events();

  // Take what is queued (only a framebuffer of FreeRDP's own waits among them), within a budget:
  // a guest's order storm must not hold the UI thread (the rest comes next turn, at once).
  auto batch = pump_->take_queued(kEventsPerTurn);
  const auto turn_deadline = base::Deadline::after(kEventTimePerTurn);
  std::uint64_t last = 0;
  std::size_t applied = 0;
  while (!batch.empty()) {
    if (applied != 0 && turn_deadline.expired()) break;
    auto& [seq, event] = batch.front();
    std::visit(EventApplier{*this}, event);
    shots_dirty_ = true;
    last_change_ = std::chrono::steady_clock::now();
    last = seq;
    ++applied;
    batch.pop_front();
  }
  pump_->put_back(std::move(batch));
  if (pump_->pump_surfaces()) {
    // Surface-only updates change what the windows show as much as RDP paints do: the
    // screenshots written while running must follow them.
    shots_dirty_ = true;
    last_change_ = std::chrono::steady_clock::now();
  }
  // Windows that waited for room a destroyed window's drawable (still held by the driver) left.
  if (compositor_->retire_freed()) {
    mirror_->refresh_budget_flags();
    pump_->need_present();
  }
  // Uploads copy the framebuffer only while FreeRDP cannot write it (see the header). Exposes
  // are redrawn here too.
  if (pump_->wants_present() || x11_ != nullptr) pump_->present();
  if (last != 0) pump_->applied(last, applied);
  maybe_write_screenshots();
}

// ---- surfaces (UI thread) --------------------------------------------------------------------

std::expected<void, std::string> RemoteDisplay::enable_surfaces(
    ringbus::Bus& bus, std::function<void(std::uint32_t)> pass_on,
    std::function<std::optional<rdpmux::ClockEstimate>()> guest_clock) {
  clock_->set_guest_clock(std::move(guest_clock));
  return pump_->enable_surfaces(bus, std::move(pass_on));
}

bool RemoteDisplay::prepare_sleep() { return pump_->prepare_sleep(); }

// ---- any thread ------------------------------------------------------------------------------

const perf::StageTelemetry& RemoteDisplay::telemetry() const { return clock_->telemetry(); }

std::shared_ptr<rh::BridgeTap> RemoteDisplay::bridge_tap() const { return clock_->bridge_tap(); }

std::vector<DisplayedWindow> RemoteDisplay::windows() const { return mirror_->windows(); }

std::vector<std::pair<std::uint32_t, std::string>> RemoteDisplay::pixel_paths() const {
  const auto surface_windows = pump_->surface_windows();
  std::vector<std::pair<std::uint32_t, std::string>> out;
  for (const auto id : mirror_->window_ids())
    out.emplace_back(id, surface_windows.contains(id) ? "surface" : "rdp");
  return out;
}

RemoteDisplayStats RemoteDisplay::stats() const {
  const FramePumpStats p = pump_->stats();
  RemoteDisplayStats s;
  s.callbacks = p.callbacks;
  s.callback_timeouts = p.callback_timeouts;
  s.paints = p.paints;
  s.uploads_deferred = p.uploads_deferred;
  s.presents = p.presents;
  s.posts_waited = p.posts_waited;
  s.turns_cut = p.turns_cut;
  s.refused = mirror_->refused();
  s.screenshots = screenshots_.load(std::memory_order_relaxed);
  s.input_events = input_->input_events();
  s.activations = focus_->allowed();
  s.activations_refused = focus_->refused();
  s.compositor = p.compositor;
  s.surfaces = p.surfaces;
  s.surface = p.surface;
  s.surface_pump = p.surface_pump;
  return s;
}

}  // namespace vitrine::viewer
