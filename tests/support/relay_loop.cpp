#include "relay_loop.hpp"

#include <unistd.h>

namespace vitrine::testing {

std::expected<std::unique_ptr<RelayLoop>, std::string> RelayLoop::start(std::uint32_t channels,
                                                                       std::uint32_t ring_log2) {
  using namespace std::chrono_literals;
  std::unique_ptr<RelayLoop> l(new RelayLoop());
  auto host = ringbus::Bus::create(ringbus::BusConfig::uniform(channels, ring_log2, ring_log2));
  if (!host) return std::unexpected("host bus: " + host.error().message);
  l->host_bus_ = std::make_unique<ringbus::Bus>(std::move(*host));
  auto guest = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(l->host_bus_->fd())), ringbus::Side::kGuest);
  if (!guest) return std::unexpected("guest bus: " + guest.error().message);
  l->guest_bus_ = std::make_unique<ringbus::Bus>(std::move(*guest));
  auto bells = rdpmux::BusDoorbells::create_eventfds(channels);
  if (!bells) return std::unexpected("doorbells: " + rdpmux::to_string(bells.error()));
  auto guest_fds = bells->dup_fds();
  if (!guest_fds) return std::unexpected("doorbells: " + rdpmux::to_string(guest_fds.error()));
  auto guest_bells = rdpmux::BusDoorbells::from_fds(std::move(*guest_fds));
  if (!guest_bells) return std::unexpected("doorbells: " + rdpmux::to_string(guest_bells.error()));
  l->guest_bells_ = std::make_unique<rdpmux::BusDoorbells>(std::move(*guest_bells));
  auto engine = relay::UringEngine::create();
  if (!engine) return std::unexpected("io_uring unavailable: " + rdpmux::to_string(engine.error()));
  l->engine_ = std::move(*engine);
  auto r = relay::Relay::create(*l->guest_bus_, *l->guest_bells_, *l->engine_);
  if (!r) return std::unexpected("relay: " + rdpmux::to_string(r.error()));
  l->relay_ = std::move(*r);
  l->thread_ = std::thread([p = l.get()] { (void)p->relay_->run(p->stop_); });
  auto mux = rdpmux::HostMux::create(*l->host_bus_, std::move(*bells));
  if (!mux) return std::unexpected("host mux: " + rdpmux::to_string(mux.error()));
  l->mux_ = std::move(*mux);
  if (auto ready = l->mux_->wait_ready(5s); !ready)
    return std::unexpected("the relay did not answer Hello: " + rdpmux::to_string(ready.error()));
  return l;
}

RelayLoop::~RelayLoop() {
  stop_ = true;
  if (auto* bell = guest_bells_ ? guest_bells_->guest() : nullptr) bell->ring();
  if (thread_.joinable()) thread_.join();
  relay_.reset();
  mux_.reset();
}

}  // namespace vitrine::testing
