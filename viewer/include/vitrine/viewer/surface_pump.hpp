// SurfacePump: the surface half of the frame pump. It is the SurfaceReceiver's sink and turns
// each accepted Present into uploads of the damaged rectangles straight from pool memory into
// the window's own texture (Compositor::upload_surface: one copy per damaged byte, CPU -> GPU,
// no staging). UI thread only, like the compositor.
//
// Windows and surfaces arrive by different roads: window orders through RDP (FreeRDP's thread,
// then the display's queue), surfaces straight off the bus. A surface may come before its window;
// it waits (its size remembered, its pixels not: they were in a buffer that went back to the
// guest) and, once the window exists, the guest is asked for the whole surface again (Refresh).
#pragma once

#include <cstdint>
#include <set>
#include <unordered_map>
#include <utility>

#include "vitrine/compositor/compositor.hpp"
#include "vitrine/viewer/surface_receiver.hpp"

namespace vitrine::viewer {

struct SurfacePumpStats {
  std::uint64_t uploads = 0;           // upload_surface() calls that uploaded
  std::uint64_t bytes_uploaded = 0;
  std::uint64_t upload_failures = 0;   // refused by the compositor (logged by the caller's stats)
  std::uint64_t early_presents = 0;    // presents before their window existed (refreshed later)
  std::uint64_t refreshes = 0;         // Refresh requests sent
};

class SurfacePump final : public SurfaceSink {
 public:
  explicit SurfacePump(compositor::Compositor& compositor) : compositor_(compositor) {}

  // The receiver to ask for Refresh (nullptr: none).
  void set_receiver(SurfaceReceiver* receiver) { receiver_ = receiver; }
  // The display created window `id` in the compositor / is about to destroy it.
  void window_created(std::uint32_t id);
  void window_deleted(std::uint32_t id);

  bool surface_attached(std::uint32_t window, std::uint32_t width, std::uint32_t height) override;
  void surface_presented(std::uint32_t window, const SurfaceFrame& frame) override;
  void surface_detached(std::uint32_t window) override;

  // True once since the last call when a surface was uploaded: the display presents.
  bool take_dirty() { return std::exchange(dirty_, false); }
  // Of the uploads since the last take (0: none): the oldest host read time
  // (SurfaceFrame::read_ns) and the oldest guest damage time (guest clock).
  struct Oldest {
    std::uint64_t read_ns = 0;
    std::uint64_t guest_damage_ns = 0;
  };
  Oldest take_oldest() { return std::exchange(oldest_, Oldest{}); }
  [[nodiscard]] bool has_surface(std::uint32_t window) const;
  // Windows painted from their surface now.
  [[nodiscard]] std::set<std::uint32_t> windows() const;
  [[nodiscard]] const SurfacePumpStats& stats() const { return stats_; }

 private:
  struct Size {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    bool attached = false;  // attached in the compositor (its window exists)
  };
  bool attach(std::uint32_t window, Size& size);

  compositor::Compositor& compositor_;
  SurfaceReceiver* receiver_ = nullptr;
  std::unordered_map<std::uint32_t, Size> surfaces_;  // by window
  bool dirty_ = false;
  Oldest oldest_;
  SurfacePumpStats stats_;
};

}  // namespace vitrine::viewer
