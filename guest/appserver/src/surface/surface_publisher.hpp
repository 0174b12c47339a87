// SurfacePublisher: the guest end of the bus's surface channel (rdpmux/surface_layout.hpp).
// Every shown window gets a surface of two buffers in the pool; each turn of the session loop,
// a window's damage since its last Present is read by the X server into a free buffer
// (BusImageReader) and presented. RemoteApp (RDP) keeps carrying the window itself: orders,
// titles, icons, input; the RDP pixel path skips what surfaces cover (covered()).
//
// Buffer hand-over: a Present gives the buffer to the host until its Released comes back; a
// window whose buffers are all the host's keeps its damage for the next turn (it accumulates,
// nothing is lost). HostReady starts a new host session: every surface is created afresh.
// Dropped (the host refused a surface) sends that window's pixels over RDP again. Refresh asks
// for a full present of one surface (the host saw its pixels before it knew the window).
//
// Threading: the session thread only. The host->guest ring is read here on every turn (the
// appserver never sleeps on the guest doorbell, which the relay owns).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "../geometry.hpp"
#include "../x11/x11_capture.hpp"
#include "bus_image_reader.hpp"
#include "vitrine/relay/bus_attach.hpp"
#include "vitrine/ringbus/surface_pool.hpp"

namespace vitrine::appserver::surface {

struct PublisherStats {
  std::uint64_t surfaces = 0;       // gauge
  std::uint64_t creates = 0;
  std::uint64_t presents = 0;
  std::uint64_t bytes_presented = 0;  // damaged bytes named in Presents
  std::uint64_t bytes_read = 0;       // bytes the X server wrote into the pool (whole rows)
  std::uint64_t bytes_copied = 0;     // bytes copied in user space (fallback path only)
  std::uint64_t waits_for_buffer = 0; // turns a window waited for a Released
  std::uint64_t dropped = 0;          // surfaces the host refused
  std::uint64_t pool_full = 0;        // windows left on RDP for want of pool space
  std::uint64_t host_sessions = 0;    // HostReady seen
};

class SurfacePublisher {
 public:
  // `bus`: attached guest side with a surface pool; `bus_fd`: an fd of the bus file for the X
  // server (-1: copy path).
  static std::expected<std::unique_ptr<SurfacePublisher>, std::string> create(
      std::unique_ptr<relay::AttachedBus> bus, int bus_fd, x11::X11Capture& capture);
  ~SurfacePublisher();

  // One turn: host replies, then surfaces for the shown windows, then Presents of their damage.
  void sync();
  // True while the host reads surfaces (HostReady seen).
  [[nodiscard]] bool active() const { return session_ != 0; }
  // Whether `w`'s pixels travel as a surface (so RDP must not send them).
  [[nodiscard]] bool covers(Window w) const;
  // True when a window waits for a buffer: poll again soon rather than sleeping long.
  [[nodiscard]] bool waiting() const { return waiting_; }
  [[nodiscard]] const PublisherStats& stats() const { return stats_; }
  [[nodiscard]] bool zero_copy() const { return reader_->zero_copy(); }
  // One log line with the counters, the guest's copies per byte among them ("surfaces: ...").
  void log_stats() const;
  // Async-signal-safe (the appserver's SIGUSR1 handler): the next sync() logs the counters, so
  // a benchmark or a user can read them while the session runs.
  static void request_stats_log();

 private:
  struct Buffer {
    std::uint64_t offset = 0;  // pool-relative
    bool host_owns = false;
  };
  struct Surface {
    std::uint32_t id = 0;
    Window window = 0;
    std::int32_t width = 0;
    std::int32_t height = 0;
    std::int32_t border = 0;  // X border width: the frame starts at window coordinate -border
    Buffer buffers[2];
    std::uint64_t sequence = 0;
    bool created = false;  // Create (or Resize) sent
    bool full = true;      // next Present must cover the whole surface
    std::uint32_t failed_reads = 0;  // consecutive reads the X server refused
    bool pixmap_failed = false;  // its composite pixmap could not be read: read the window itself
    bool resize_unsent = false;  // new buffers placed, Resize not yet in the ring
  };
  SurfacePublisher(std::unique_ptr<relay::AttachedBus> bus, x11::X11Capture& capture);
  void read_host();
  void forget_all();
  void release_surface(Surface& s);
  bool place(Surface& s, std::int32_t width, std::int32_t height);
  // `frame`: the window's frame on the root window (only its on-screen part can be read).
  bool present(Surface& s, const Rect& frame, DamageRegion* damage);
  // Reads rows [top, bottom), columns [left, left + width) of the frame into `buffer`, from
  // `pixmap` (the window's composite pixmap, origin at the frame's corner) or, when it is 0,
  // from the window itself (origin inside its border).
  std::expected<void, std::string> read_band(const Surface& s, Pixmap pixmap, const Buffer& buffer, std::int32_t left,
                                             std::int32_t width, std::int32_t top, std::int32_t bottom);
  // Gives the window back to RDP pixels for the rest of the host session.
  void refuse(Surface& s, const Rect& frame);
  ringbus::Ring& tx();

  std::unique_ptr<relay::AttachedBus> bus_;
  x11::X11Capture& capture_;
  std::unique_ptr<BusImageReader> reader_;
  ringbus::SurfacePool pool_;
  std::uint32_t channel_ = 0;
  std::uint64_t session_ = 0;
  std::uint32_t next_id_ = 1;
  std::uint64_t spread_bytes_ = 0;  // bytes moved in the pool to place clipped rows at their columns
  std::map<Window, Surface> surfaces_;
  std::set<Window> refused_;  // Dropped by the host: RDP pixels for the rest of the session
  std::vector<std::uint64_t> retired_;  // buffers of resized/destroyed surfaces awaiting Released
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint64_t> retired_owned_;  // (id, buffer) -> offset
  bool waiting_ = false;
  bool dirty_ = false;  // records committed this turn: notify once
  PublisherStats stats_;
};

}  // namespace vitrine::appserver::surface
