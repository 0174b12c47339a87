// SurfaceReceiver: the host end of the bus's surface channel (rdpmux/surface_layout.hpp). It
// reads the guest's surface messages, keeps the table of surfaces, checks every value against
// it and against the pool, and hands each accepted frame to a SurfaceSink (the display), which
// uploads the damaged rectangles straight from pool memory. After the sink returns, the buffer
// goes back to the guest (Released): the sink reads pool pixels only during its call.
//
//   UI thread: poll(wake_fd()) -> woke(); poll() until it returns false; prepare_sleep() before
//   sleeping again (false: records came meanwhile, poll() again).
//
// A guest that breaks the protocol loses that surface, never the session: the surface is dropped
// (Dropped to the guest, surface_detached() to the sink, so the window falls back to the pixels
// it had before), the fault is counted and logged once per surface. A guest that breaks the ring
// itself loses every surface; the receiver resets the channel and announces itself again.
// Every loop the guest drives is budgeted (records and time per poll()).
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "vitrine/compositor/geometry.hpp"
#include "vitrine/rdpmux/surface_codec.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace vitrine::viewer {

// A rectangle of a surface, inside it. A surface holds exactly its window's pixels, so surface
// coordinates are the window's (compositor::WindowSpace): the rectangles go to
// Compositor::upload_surface as they are.
using SurfaceRect = compositor::WindowRect;

// One accepted Present: the buffer's pixels and what changed. Valid during surface_presented().
struct SurfaceFrame {
  std::uint32_t surface_id = 0;
  const std::byte* pixels = nullptr;  // pixel (0,0) of the buffer, in the pool (guest memory)
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t stride = 0;           // bytes per row
  std::span<const SurfaceRect> rects;  // inside width x height, at least one
  std::uint64_t sequence = 0;
  std::uint64_t damage_ns = 0;        // guest clock (telemetry)
  std::uint64_t read_ns = 0;          // host steady clock when the record was read
};

class SurfaceSink {
 public:
  virtual ~SurfaceSink() = default;
  // The window gets a surface of this size, or its surface a new size (Resize). False: the host
  // cannot show it (unknown window, refused): the surface is dropped with kDropNoWindow.
  virtual bool surface_attached(std::uint32_t window, std::uint32_t width, std::uint32_t height) = 0;
  virtual void surface_presented(std::uint32_t window, const SurfaceFrame& frame) = 0;
  // The surface is gone (destroyed, dropped, or every surface after a ring fault).
  virtual void surface_detached(std::uint32_t window) = 0;
};

struct SurfaceReceiverOptions {
  std::uint32_t max_surfaces = 256;
  std::uint32_t max_records_per_poll = 256;
  std::chrono::microseconds max_time_per_poll{2000};
};

struct SurfaceCounters {
  std::uint64_t creates = 0;
  std::uint64_t resizes = 0;
  std::uint64_t destroys = 0;
  std::uint64_t presents = 0;          // accepted and handed to the sink
  std::uint64_t rects = 0;
  std::uint64_t bytes_presented = 0;   // damaged bytes (rect pixels x 4) handed to the sink
  std::uint64_t faults = 0;            // records refused (each one)
  std::uint64_t dropped = 0;           // surfaces dropped for a fault
  std::uint64_t ignored = 0;           // records for an already-dropped surface
  std::uint64_t ring_faults = 0;       // channel resets after a broken ring
  std::uint64_t releases_deferred = 0; // Released waited for room in the host->guest ring
  std::uint64_t budget_yields = 0;     // poll() stopped at its budget with records left
  std::uint64_t surfaces = 0;          // gauge
};

// One surface as `vitrine stats` shows it.
struct SurfaceInfo {
  std::uint32_t surface_id = 0;
  std::uint32_t window_id = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t buffers = 0;
  std::uint64_t presents = 0;
  std::uint64_t bytes = 0;
};

class SurfaceReceiver {
 public:
  // `bus` (host side, with a surface pool) and `sink` outlive the receiver. Sends HostReady.
  static std::expected<std::unique_ptr<SurfaceReceiver>, std::string> create(ringbus::Bus& bus, SurfaceSink& sink,
                                                                             SurfaceReceiverOptions options = {});
  ~SurfaceReceiver();
  SurfaceReceiver(const SurfaceReceiver&) = delete;
  SurfaceReceiver& operator=(const SurfaceReceiver&) = delete;

  // Handles records within the budget; true when more are waiting (call again soon).
  bool poll();
  // The eventfd that wakes the UI loop for this channel (-1: none, poll periodically). With one
  // host doorbell shared by every channel, call woke() after it polled readable.
  [[nodiscard]] int wake_fd() const;
  // Drains the doorbell; `pass_on` (HostMux::pass_on_shared_wakeup) rings it again for other
  // sleepers when the wake-up was theirs.
  void woke();
  void set_pass_on(std::function<void(std::uint32_t channel)> pass_on) { pass_on_ = std::move(pass_on); }
  // Arms the doorbell before the UI thread sleeps; false when records arrived meanwhile.
  bool prepare_sleep();

  // The display lost a surface's content (its window came after its pixels): the guest presents
  // the whole surface again. No-op for a window without a surface.
  void request_refresh(std::uint32_t window);

  [[nodiscard]] const SurfaceCounters& counters() const { return counters_; }
  [[nodiscard]] std::vector<SurfaceInfo> surfaces() const;
  [[nodiscard]] bool window_has_surface(std::uint32_t window) const { return by_window_.contains(window); }
  [[nodiscard]] std::uint32_t channel() const { return channel_; }

 private:
  struct Surface {
    rdpmux::SurfaceGeometry geometry;
    std::uint64_t last_sequence = 0;
    std::uint64_t presents = 0;
    std::uint64_t bytes = 0;
  };
  SurfaceReceiver(ringbus::Bus& bus, SurfaceSink& sink, SurfaceReceiverOptions options);
  void handle(std::uint16_t type, std::span<const std::byte> payload, std::uint64_t read_ns);
  void on_geometry(const rdpmux::SurfaceGeometry& g);
  void on_present(const rdpmux::SurfacePresent& p, std::uint64_t read_ns);
  void on_destroy(std::uint32_t surface_id);
  void drop(std::uint32_t surface_id, std::uint32_t reason, const std::string& what);
  void fault_without_surface(const std::string& what);
  void announce();
  void flush_replies();
  void ring_fault(const std::string& what);

  ringbus::Bus& bus_;
  SurfaceSink& sink_;
  SurfaceReceiverOptions options_;
  std::uint32_t channel_ = 0;
  std::uint64_t pool_size_ = 0;
  std::function<void(std::uint32_t)> pass_on_;
  std::unordered_map<std::uint32_t, Surface> surfaces_;      // by surface id
  std::unordered_map<std::uint32_t, std::uint32_t> by_window_;  // window -> surface id
  std::unordered_set<std::uint32_t> dropped_;                // ids dropped this session (bounded)
  // Replies waiting for room in the host->guest ring, oldest first. Bounded: at most one Released
  // per accepted Present and one Dropped per surface, and Presents stop being accepted while the
  // guest does not read (a buffer with a pending Released is the host's, so a Present of it is
  // refused).
  std::vector<std::pair<std::uint16_t, std::vector<std::byte>>> pending_;
  std::unordered_set<std::uint64_t> owned_;  // (surface << 8 | buffer) with a Released pending
  std::vector<SurfaceRect> rects_;           // scratch
  std::uint64_t session_ = 0;
  std::uint32_t logged_ = 0;                 // fault lines written (capped)
  SurfaceCounters counters_;
};

}  // namespace vitrine::viewer
