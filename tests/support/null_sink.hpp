// NullSink: a WindowEvents + DisplaySink that ignores everything, for tests and benchmarks that
// care about one or two callbacks (derive and override those). Header-only; link
// vitrine::rdpmux_host.
#pragma once

#include <cstdint>
#include <span>

#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace vitrine::testing {

class NullSink : public rdpmux::host::WindowEvents, public rdpmux::host::DisplaySink {
 public:
  void window_created(const rdpmux::host::WindowState&) override {}
  void window_changed(const rdpmux::host::WindowState&, std::uint32_t) override {}
  void window_deleted(rdpmux::host::WindowId) override {}
  void z_order_changed(std::span<const rdpmux::host::WindowId>) override {}
  void active_window_changed(rdpmux::host::WindowId) override {}
  void notify_icon_changed(const rdpmux::host::NotifyIconState&) override {}
  void notify_icon_deleted(rdpmux::host::WindowId, std::uint32_t) override {}
  void local_move_size(const rdpmux::host::LocalMoveSize&) override {}
  void framebuffer_changed(const rdpmux::host::FramebufferView&) override {}
  void damaged(const rdpmux::host::FramebufferView&, std::span<const rdpmux::host::DesktopRect>) override {}
};

}  // namespace vitrine::testing
