// Test helper: one bus with a host view and a guest view (two mappings of one memfd), eventfd
// doorbells wired both ways, and two socketpairs bridged through channel 1 - the host bridge
// plays rdpmux/host, the guest bridge plays the relay (before and besides vitrine-guest).
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <memory>

#include "bus_socket_bridge.hpp"
#include "vitrine/ringbus/bus.hpp"
#include "vitrine/ringbus/doorbell.hpp"

namespace vitrine::rdpmux::host::testing {

struct SocketPair {
  ringbus::UniqueFd a, b;
  static SocketPair make() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return {};
    return {ringbus::UniqueFd(fds[0]), ringbus::UniqueFd(fds[1])};
  }
};

struct BridgedLink {
  std::unique_ptr<ringbus::Bus> host;
  std::unique_ptr<ringbus::Bus> guest;
  std::unique_ptr<ringbus::EventfdDoorbell> host_bell, guest_bell;
  std::unique_ptr<BusSocketBridge> host_bridge, guest_bridge;
  ringbus::UniqueFd client_end;  // what the RDP client (or a test) uses
  ringbus::UniqueFd server_end;  // what the RDP server (or a test) uses

  // `log2`: ring size per direction.
  static std::unique_ptr<BridgedLink> make(std::uint32_t log2 = 20) {
    auto link = std::make_unique<BridgedLink>();
    auto bus = ringbus::Bus::create(ringbus::BusConfig::uniform(2, log2, log2));
    if (!bus) return nullptr;
    auto guest = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(bus->fd())), ringbus::Side::kGuest);
    if (!guest) return nullptr;
    link->host = std::make_unique<ringbus::Bus>(std::move(*bus));
    link->guest = std::make_unique<ringbus::Bus>(std::move(*guest));
    auto hb = ringbus::EventfdDoorbell::create();
    auto gb = ringbus::EventfdDoorbell::create();
    if (!hb || !gb) return nullptr;
    link->host_bell = std::make_unique<ringbus::EventfdDoorbell>(std::move(*hb));
    link->guest_bell = std::make_unique<ringbus::EventfdDoorbell>(std::move(*gb));
    link->host->channel(1).set_doorbells(link->host_bell.get(), link->guest_bell.get());
    link->guest->channel(1).set_doorbells(link->guest_bell.get(), link->host_bell.get());
    auto client = SocketPair::make();
    auto server = SocketPair::make();
    auto h = BusSocketBridge::start(link->host->channel(1), std::move(client.b));
    auto g = BusSocketBridge::start(link->guest->channel(1), std::move(server.b));
    if (!h || !g) return nullptr;
    link->host_bridge = std::move(*h);
    link->guest_bridge = std::move(*g);
    link->client_end = std::move(client.a);
    link->server_end = std::move(server.a);
    return link;
  }

  ~BridgedLink() {
    if (host_bridge) host_bridge->stop();
    if (guest_bridge) guest_bridge->stop();
  }
};

}  // namespace vitrine::rdpmux::host::testing
