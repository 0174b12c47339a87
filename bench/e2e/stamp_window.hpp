// StampWindow: the guest application of the surface benchmarks, a plain X client of the guest's
// Xvfb. It owns one top-level window of kSide x kSide pixels at a fixed place of the guest desktop
// and paints it the way a toolkit's image surface does (MIT-SHM PutImage: the X server copies the
// client's shared memory into the window), every paint the whole window with a stamp in its last
// pixel (kSide - 1, kSide - 1), written last in the paint's image, as the RDP cases' server does.
//
// It is a separate X connection and never shares it with another thread: the throughput case
// paints from the benchmark thread, the input case from its own thread (StampWindow::Responder).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace vitrine::bench {

class StampWindow {
 public:
  static constexpr int kSide = 256;
  static constexpr int kSlots = 8;  // images in flight: one per paint of a batch

  // Guest desktop coordinates of the window's top-left pixel (no window manager: it stays there).
  static std::expected<std::unique_ptr<StampWindow>, std::string> open(const std::string& display, int x, int y);
  ~StampWindow();
  StampWindow(const StampWindow&) = delete;
  StampWindow& operator=(const StampWindow&) = delete;

  // Paints the whole window with `stamp` (24 bits, 0x00RRGGBB) in its last pixel and flushes the
  // request. A slot's image is rewritten only kSlots paints later; callers wait for each batch of
  // at most kSlots to reach the host before the next, which the X server finished reading by
  // then (it executes one client's requests in order, and the host saw the last one's pixels).
  void paint(std::uint32_t stamp);
  // The next pointer motion inside the window (window coordinates), or nothing after `timeout`.
  std::optional<std::pair<int, int>> wait_motion(std::chrono::milliseconds timeout);
  // The X window id (the appserver names its RAIL window and surface after it).
  [[nodiscard]] std::uint64_t window() const;

  // The stamp the input case's window paints for a motion to window point (x, y), 0 <= x, y < 256.
  static std::uint32_t stamp_for_motion(int x, int y) {
    return 0x800000u | (static_cast<std::uint32_t>(y & 0xFF) << 8) | static_cast<std::uint32_t>(x & 0xFF);
  }

  // A thread that answers every motion in the window with a paint of stamp_for_motion(): the
  // guest application of the input-to-paint case. Stops (joins) on destruction.
  class Responder {
   public:
    explicit Responder(StampWindow& window);
    ~Responder();
    Responder(const Responder&) = delete;
    Responder& operator=(const Responder&) = delete;

   private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
  };

 private:
  // Xlib's state stays in stamp_window.cpp: its macros (None, Bool, Status) would leak into
  // every file that includes this header.
  struct X;
  StampWindow();
  std::unique_ptr<X> x_;
};

}  // namespace vitrine::bench
