// RemoteDisplay's surface path: window pixels straight from the bus's surface pool (viewer::
// SurfaceReceiver -> viewer::SurfacePump -> Compositor::upload_surface), on the UI thread.
#include <poll.h>

#include <spdlog/spdlog.h>

#include "remote_display.hpp"

namespace vitrine::cli {

std::expected<void, std::string> RemoteDisplay::enable_surfaces(ringbus::Bus& bus,
                                                                std::function<void(std::uint32_t)> pass_on,
                                                                std::function<std::optional<rdpmux::ClockEstimate>()> guest_clock) {
  guest_clock_ = std::move(guest_clock);
  if (surface_receiver_) return {};
  auto pump = std::make_unique<viewer::SurfacePump>(*compositor_);
  auto receiver = viewer::SurfaceReceiver::create(bus, *pump);
  if (!receiver) return std::unexpected(receiver.error());
  (*receiver)->set_pass_on(std::move(pass_on));
  pump->set_receiver(receiver->get());
  surface_pump_ = std::move(pump);
  surface_receiver_ = std::move(*receiver);
  std::lock_guard lock(mutex_);
  stats_.surfaces = true;
  return {};
}

bool RemoteDisplay::prepare_sleep() {
  if (!surface_receiver_) return true;
  return !surfaces_more_ && surface_receiver_->prepare_sleep();
}

void RemoteDisplay::pump_surfaces() {
  if (!surface_receiver_) return;
  // Drain the doorbell only when it rang: with one host doorbell for every channel, reading it
  // takes the wake-up from whoever else sleeps on it (woke() passes it on when it was theirs).
  if (const int fd = surface_receiver_->wake_fd(); fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) surface_receiver_->woke();
  }
  surfaces_more_ = surface_receiver_->poll();
  if (surface_pump_->take_dirty()) {
    need_present_ = true;
    // Surface-only updates change what the windows show as much as RDP paints do: the
    // screenshots written while running must follow them.
    shots_dirty_ = true;
    last_change_ = std::chrono::steady_clock::now();
  }
  std::lock_guard lock(mutex_);
  stats_.surface = surface_receiver_->counters();
  stats_.surface_pump = surface_pump_->stats();
  surface_windows_ = surface_pump_->windows();
}

void RemoteDisplay::surface_presented(std::uint64_t present_start_ns) {
  const auto oldest = surface_pump_->take_oldest();
  if (oldest.read_ns == 0) return;
  const std::uint64_t end = perf::monotonic_ns();
  telemetry_.stage(perf::Stage::kSurfaceReadToUpload).record(present_start_ns - std::min(present_start_ns, oldest.read_ns));
  telemetry_.stage(perf::Stage::kSurfaceUploadToPresent).record(end - present_start_ns);
  if (oldest.guest_damage_ns == 0 || !guest_clock_) return;
  const auto clock = guest_clock_();
  if (!clock) return;
  const std::uint64_t damage = clock->to_host(oldest.guest_damage_ns);
  if (damage == 0 || damage > oldest.read_ns) return;  // outside what the sync's error allows
  telemetry_.stage(perf::Stage::kSurfaceDamageToRead).record(oldest.read_ns - damage);
  telemetry_.stage(perf::Stage::kSurfaceEndToEnd).record(end - damage);
}

std::vector<std::pair<std::uint32_t, std::string>> RemoteDisplay::pixel_paths() const {
  std::vector<std::pair<std::uint32_t, std::string>> out;
  std::lock_guard lock(mutex_);
  for (const auto& [id, w] : shown_)
    out.emplace_back(id, surface_windows_.contains(id) ? "surface" : "rdp");
  return out;
}

}  // namespace vitrine::cli
