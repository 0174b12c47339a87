#include "surface_host.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "vitrine/compositor/headless_backend.hpp"
#include "vitrine/rdpmux/bus_doorbells.hpp"

namespace vitrine::bench {

namespace rh = rdpmux::host;
using namespace std::chrono_literals;

// The longest the UI loop sleeps. It should sleep until a doorbell rings, but vitrine-appserver
// never rings the host for surface records: its SurfacePublisher commits and calls notify_sent()
// on a bus whose doorbells were never applied (the relay applies its own: Relay::create ->
// BusDoorbells::apply; the appserver's AttachedBus keeps them unapplied). Reported to the lead.
// Until it rings, the host looks every millisecond, as the appserver itself does while it waits
// for a Released; a guest that rings wakes the loop at once and this bound never elapses.
constexpr std::chrono::milliseconds kNoDoorbellPeriod{1};

void StampProbe::surface_presented(std::uint32_t window, const viewer::SurfaceFrame& frame) {
  const std::uint64_t uploads = pump_.stats().uploads;
  pump_.surface_presented(window, frame);
  if (window != window_ || pump_.stats().uploads == uploads) return;  // not this window, or not uploaded
  if (x_ >= static_cast<std::int32_t>(frame.width) || y_ >= static_cast<std::int32_t>(frame.height)) return;
  // Only a damaged pixel is this Present's: outside the rectangles the buffer holds older pixels.
  const bool damaged = std::any_of(frame.rects.begin(), frame.rects.end(), [&](const viewer::SurfaceRect& r) {
    return x_ >= r.x && x_ < r.x + r.width && y_ >= r.y && y_ < r.y + r.height;
  });
  if (!damaged) return;
  // The buffer is the host's until the receiver releases it after this call: these are the bytes
  // the upload read. The receiver checked the frame against the pool, so the pixel is in bounds.
  std::uint32_t v = 0;
  std::memcpy(&v, frame.pixels + static_cast<std::size_t>(y_) * frame.stride + static_cast<std::size_t>(x_) * 4, 4);
  seen_ = {v & 0xFFFFFF, frame.sequence, std::chrono::steady_clock::now(), frame.damage_ns, frame.read_ns};
}

std::expected<std::unique_ptr<SurfaceHost>, std::string> SurfaceHost::start(ringbus::Bus& bus, int wake_guest,
                                                                           int wake_host, const rdpmux::Target& target,
                                                                           const StampSpot& spot) {
  std::unique_ptr<SurfaceHost> h(new SurfaceHost());
  h->bus_ = &bus;
  h->spot_ = spot;
  h->events_fd_ = ringbus::UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!h->events_fd_) return std::unexpected(std::string("eventfd: ") + std::strerror(errno));

  // The doorbells as VmSession hands them to its HostMux: guest's, then the shared host one.
  std::vector<ringbus::UniqueFd> bells;
  for (int fd : {wake_guest, wake_host}) bells.emplace_back(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  auto doorbells = rdpmux::BusDoorbells::from_fds(std::move(bells));
  if (!doorbells) return std::unexpected("doorbells: " + rdpmux::to_string(doorbells.error()));
  auto mux = rdpmux::HostMux::create(bus, std::move(*doorbells));
  if (!mux) return std::unexpected("host mux: " + rdpmux::to_string(mux.error()));
  h->mux_ = std::move(*mux);
  if (auto ready = h->mux_->wait_ready(10s); !ready)
    return std::unexpected("the guest relay did not answer: " + rdpmux::to_string(ready.error()));

  auto backend = compositor::HeadlessBackend::create();
  if (!backend) return std::unexpected("no off-screen GL (EGL surfaceless, Mesa): " + compositor::to_string(backend.error()));
  auto comp = compositor::Compositor::create(std::move(*backend));
  if (!comp) return std::unexpected("compositor: " + compositor::to_string(comp.error()));
  h->compositor_ = std::move(*comp);
  h->pump_ = std::make_unique<viewer::SurfacePump>(*h->compositor_);
  h->probe_ = std::make_unique<StampProbe>(*h->pump_, spot.window, spot.x, spot.y);
  auto receiver = viewer::SurfaceReceiver::create(bus, *h->probe_);
  if (!receiver) return std::unexpected("surface receiver: " + receiver.error());
  h->receiver_ = std::move(*receiver);
  rdpmux::HostMux& m = *h->mux_;
  h->receiver_->set_pass_on([&m](std::uint32_t channel) { m.pass_on_shared_wakeup(channel); });
  h->pump_->set_receiver(h->receiver_.get());

  auto conn = h->mux_->open(target, {.framed = true, .timeout = 5000ms});
  if (!conn) return std::unexpected("open through the relay: " + rdpmux::to_string(conn.error()));
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return std::unexpected(std::string("socketpair: ") + std::strerror(errno));
  ringbus::UniqueFd client_end(fds[0]);
  auto bridge = rh::ConnectionBridge::start(std::move(*conn), ringbus::UniqueFd(fds[1]));
  if (!bridge) return std::unexpected("bridge: " + rh::to_string(bridge.error()));
  h->bridge_ = std::move(*bridge);
  rh::ClientConfig config;
  config.security = rh::Security::kRdp;  // as the RDP cases: a private link, no TLS
  config.program.clear();  // the application runs already (StampWindow): no Client Execute
  config.width = 1024;
  config.height = 768;
  auto client = rh::RdpClient::start(config, std::move(client_end), *h, *h);
  if (!client) return std::unexpected("client: " + rh::to_string(client.error()));
  h->client_ = std::move(*client);
  if (auto up = h->client_->wait_connected(20s); !up) return std::unexpected("connect: " + rh::to_string(up.error()));
  return h;
}

SurfaceHost::~SurfaceHost() {
  if (client_) client_->stop();
  bridge_.reset();
  receiver_.reset();  // before the pump and the compositor it uploads into
  probe_.reset();
  pump_.reset();
  compositor_.reset();
  mux_.reset();
}

void SurfaceHost::wake_ui() {
  const std::uint64_t one = 1;
  (void)::write(events_fd_.get(), &one, sizeof one);
}

void SurfaceHost::damaged(const rh::FramebufferView& fb, std::span<const rh::DesktopRect> rects) {
  (void)rects;
  const std::int64_t x = spot_.desktop_x + spot_.x;
  const std::int64_t y = spot_.desktop_y + spot_.y;
  if (fb.pixels == nullptr || x < 0 || y < 0 || x >= std::int64_t(fb.width) || y >= std::int64_t(fb.height)) return;
  std::uint32_t v = 0;
  std::memcpy(&v, fb.pixels + std::size_t(y) * fb.stride + std::size_t(x) * 4, 4);
  // Release: the benchmark thread reads it; the decode happened before on this thread.
  if (rdp_stamp_.exchange(v & 0xFFFFFF, std::memory_order_acq_rel) != (v & 0xFFFFFF)) wake_ui();
}

void SurfaceHost::window_created(const rh::WindowState& state) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back({state.id, state.frame, state.show != rh::ShowState::kHidden, false});
  }
  wake_ui();
}

void SurfaceHost::window_changed(const rh::WindowState& state, std::uint32_t what) {
  (void)what;
  window_created(state);  // applied as "make it so": create or move/resize, show or hide
}

void SurfaceHost::window_deleted(rh::WindowId id) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back({id, {}, false, true});
  }
  wake_ui();
}

// RemoteDisplay::apply for the events that matter to a surface: the window exists in the
// compositor (so the pump can attach its surface), at its frame.
void SurfaceHost::apply_window_events() {
  std::uint64_t count = 0;
  (void)::read(events_fd_.get(), &count, sizeof count);
  std::vector<WindowEvent> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(events_);
  }
  for (const WindowEvent& e : batch) {
    if (e.deleted) {
      pump_->window_deleted(static_cast<std::uint32_t>(e.id));
      (void)compositor_->destroy_window(e.id);
      continue;
    }
    const compositor::DesktopRect rect{e.frame.x, e.frame.y, static_cast<std::int32_t>(std::max(e.frame.width, 1u)),
                                       static_cast<std::int32_t>(std::max(e.frame.height, 1u))};
    if (compositor_->scene().find(e.id) == nullptr) {
      compositor::WindowDesc desc;
      desc.rect = rect;
      desc.visible = e.shown;
      if (compositor_->create_window(e.id, desc)) {
        pump_->window_created(static_cast<std::uint32_t>(e.id));
        ++windows_created_;
      }
    } else {
      (void)compositor_->set_rect(e.id, rect);
      (void)compositor_->set_visible(e.id, e.shown);
    }
  }
}

// SurfaceReceiver::prepare_sleep() is meant to arm the surface ring and say whether sleeping is
// safe, but it returns Ring::arm_readable()'s value as it is, and that value is true when records
// are ready: it answers "idle" exactly when records wait (the UI loop then sleeps up to its
// timeout with a Present pending and the guest not ringing) and "busy" when nothing waits (the
// loop spins). Reported to the lead; until the receiver is fixed the harness arms the ring itself
// with the receiver's own verb and polarity (woke() disarms it, as for prepare_sleep()).
bool SurfaceHost::surfaces_idle() {
  auto ready = bus_->channel(receiver_->channel()).rx().arm_readable();
  return ready && !*ready;
}

void SurfaceHost::turn(std::chrono::milliseconds sleep) {
  std::vector<pollfd> p{{events_fd_.get(), POLLIN, 0}};
  const int surface_fd = receiver_->wake_fd();
  if (surface_fd >= 0) p.push_back({surface_fd, POLLIN, 0});
  // As Instance::run: sleep on the control channel only once armed, on the surface channel only
  // once surfaces_idle() armed it; either one finding records waiting means no sleep at all.
  const int control_fd = mux_->control_wake_fd();
  const bool armed = control_fd >= 0 && mux_->arm_control_wake();
  if (armed) p.push_back({control_fd, POLLIN, 0});
  const bool idle = !more_ && surfaces_idle() && (armed || control_fd < 0);
  (void)::poll(p.data(), p.size(), idle ? static_cast<int>(sleep.count()) : 0);

  if (p[0].revents & POLLIN) apply_window_events();
  // RemoteDisplay::pump_surfaces: drain the shared doorbell only when it rang.
  if (surface_fd >= 0) {
    pollfd s{surface_fd, POLLIN, 0};
    if (::poll(&s, 1, 0) > 0) receiver_->woke();
  }
  more_ = receiver_->poll();
  if (pump_->take_dirty()) {
    (void)compositor_->present();
    // Headless, present() leaves the draw queued in llvmpipe until the next GL call that needs
    // the window's texture: the next upload_surface() would run the previous frame's draw
    // (~0.3 ms here) and the next sample would carry it. `vitrine run` on X11 swaps, which runs
    // the draw at present time; finish() does that here, so each frame's draw is its own turn's.
    compositor_->finish();
  }
  more_ = mux_->poll() || more_;
}

bool SurfaceHost::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    turn(std::min(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) + 1ms, kNoDoorbellPeriod));
  }
  return true;
}

SurfaceHostCounters SurfaceHost::counters() const {
  return {receiver_->counters(), pump_->stats(), compositor_->stats(), client_->stats()};
}

}  // namespace vitrine::bench
