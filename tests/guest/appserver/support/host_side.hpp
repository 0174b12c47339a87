// Test helpers for the host side of vitrine-appserver tests: the real rdpmux host RdpClient
// (FreeRDP in RemoteApp mode) and an observer that keeps what it reports -- the RAIL window
// model's windows and a copy of the decoded desktop -- for the test thread to check.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace vitrine::appserver::testing {

// WindowEvents + DisplaySink. Callbacks run on the client's session thread; the test thread
// reads through the accessors (all under one mutex).
class HostObserver final : public rdpmux::host::WindowEvents, public rdpmux::host::DisplaySink {
 public:
  using WindowState = rdpmux::host::WindowState;
  using WindowId = rdpmux::host::WindowId;

  void window_created(const WindowState& s) override;
  void window_changed(const WindowState& s, std::uint32_t what) override;
  void window_deleted(WindowId id) override;
  void z_order_changed(std::span<const WindowId>) override {}
  void active_window_changed(WindowId) override {}
  void notify_icon_changed(const rdpmux::host::NotifyIconState&) override {}
  void notify_icon_deleted(WindowId, std::uint32_t) override {}
  void local_move_size(const rdpmux::host::LocalMoveSize&) override {}
  void framebuffer_changed(const rdpmux::host::FramebufferView& fb) override;
  void damaged(const rdpmux::host::FramebufferView& fb, std::span<const rdpmux::host::DesktopRect> rects) override;

  // Waits (up to `timeout`) until `done` holds; `done` runs with the lock held.
  bool wait(const std::function<bool(const HostObserver&)>& done, std::chrono::milliseconds timeout);
  std::optional<WindowState> window(WindowId id) const;
  std::map<WindowId, WindowState> windows() const;
  // The decoded desktop at (x, y, w, h) as 0x00RRGGBB (the layout of read_pixels); empty when
  // outside the framebuffer.
  std::vector<std::uint32_t> pixels(int x, int y, int w, int h) const;
  std::uint64_t windows_created() const;

  // Unlocked views for `wait` predicates.
  const std::map<WindowId, WindowState>& windows_locked() const { return windows_; }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<WindowId, WindowState> windows_;
  std::uint64_t created_ = 0;
  std::uint32_t width_ = 0, height_ = 0;
  std::vector<std::uint32_t> desktop_;  // copy of the framebuffer, 0x00RRGGBB
};

// Starts an RdpClient on `fd` (connected to the appserver, directly or through the bus) in
// RemoteApp mode with standard RDP security. `program` empty: no Client Execute after the RAIL
// handshake (how the host reconnects to a server whose applications already run).
rdpmux::host::Result<std::unique_ptr<rdpmux::host::RdpClient>> start_rail_client(int fd, const std::string& program,
                                                                                 HostObserver& observer,
                                                                                 std::uint32_t width = 1024,
                                                                                 std::uint32_t height = 768);

// vitrine-appserver on `display`, TCP port chosen by the kernel; stderr to `log`.
struct AppServer {
  ChildProcess process;
  std::uint16_t port = 0;
};
std::optional<AppServer> start_appserver(const std::string& binary, const std::string& display,
                                         const std::filesystem::path& home, const std::filesystem::path& log,
                                         const std::vector<std::string>& extra = {});

// A TCP connection to 127.0.0.1:port, -1 on failure.
int connect_loopback(std::uint16_t port);

// Set-1 scancodes (US layout) that type `text`: letters (capitals with shift), digits, space,
// - . / > _ and '\n'.
// Characters outside that set are skipped (the caller chooses its text).
struct KeyStroke {
  rdpmux::host::Scancode code;
  bool shift = false;
};
std::vector<KeyStroke> keystrokes_for(const std::string& text);
// Types `text` as key presses; false (nothing sent) when a character is outside the table.
bool type_text(rdpmux::host::RdpClient& client, const std::string& text);

// Resident set size (kB) of process `pid` from /proc, -1 on failure.
long rss_kb(pid_t pid);

}  // namespace vitrine::appserver::testing
