// bench_hostile's host and guest: one in-process bus (host side formatted here, guest side
// attached to the same memfd), the real host components a `vitrine run` session has on that bus,
// and the UI loop of cli/src/instance.cpp (Instance::run) that this program times turn by turn.
//
//   guest thread (attacks.cpp)              bus (memfd, 4 channels, 64 MiB surface pool)
//     writes any record, forges ring      ch 0 control   <-> HostMux           (UI thread: poll())
//     control words, rings the shared     ch 1 connection <-> Connection       (pump thread)
//     host doorbell                       ch 2 never opened by the host        (forgery target)
//                                         ch 3 surfaces  <-> SurfaceReceiver   (UI thread: dispatch())
//   session thread (attacks.cpp)  --->  RemoteDisplay (headless compositor, window pixel budget)
//
// Host doorbells per channel (the sandbox: the UI loop sleeps on the control channel's own fd and
// wakes for every control record), or one shared by every channel as across a VM boundary (the
// doorbell cases): then the UI loop sleeps on it through the display's wake fds, and HostMux's
// control_wake_fd() is -1, exactly as `vitrine run` against a VM.
//
// Threads: Host is built and polled on the benchmark's thread (the UI thread). The guest side
// (guest_bus(), guest_bells()) belongs to the attack thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vitrine/rdpmux/bus_doorbells.hpp"
#include "vitrine/rdpmux/catalog_wire.hpp"
#include "vitrine/rdpmux/mux/catalog_decoder.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/ringbus/bus.hpp"
#include "vitrine/viewer/remote_display.hpp"

namespace vitrine::bench::hostile {

// Bus geometry: control, one connection, one channel the host never opens, surfaces (the last).
inline constexpr std::uint32_t kChannels = 4;
inline constexpr std::uint32_t kConnectionChannel = 1;
inline constexpr std::uint32_t kUnopenedChannel = 2;
inline constexpr std::uint32_t kRingLog2 = 20;  // 1 MiB per ring, as BusConfig::uniform(…, 20, 20) in tests
inline constexpr std::uint64_t kSurfacePoolBytes = 64u << 20;

// The session's desktop (framebuffer) and the windows a connected session shows before the attack.
inline constexpr std::uint32_t kDesktopWidth = 1024;
inline constexpr std::uint32_t kDesktopHeight = 768;
inline constexpr std::uint32_t kSessionWindows = 4;      // ids 1..4
inline constexpr std::uint32_t kSessionWindowSide = 256; // pixels, square

// Resident set from /proc/self/statm, KiB. `anon` excludes file and shared-memory pages (the
// bus memfd: guest-touched ring and pool pages are the guest's memory in a VM, not the host's).
struct Rss {
  std::int64_t total_kib = 0;
  std::int64_t anon_kib = 0;
};
Rss read_rss();

// Log lines of the host components (base::log_*), counted instead of printed while an attack
// runs (VITRINE_HOSTILE_LOG=1 prints them too). Guest-triggered lines must be rate-limited.
void install_counting_log_sink();
std::uint64_t log_lines();

// How the UI thread takes the application catalogue from HostMux's fragment callback.
enum class CatalogMode {
  kAddOnUi,         // CatalogReassembler::add() in the callback: join + decode on the UI thread
                    // (what `vitrine run` did before; kept as the reference the fix is measured by)
  kDecodeOnWorker,  // join() in the callback, rdpmux::CatalogDecoder decodes: what `vitrine run` does
};

// Host doorbells: one eventfd per channel (the sandbox), or one shared by every channel (a VM:
// then HostMux::control_wake_fd() is -1 and the UI loop sleeps on the display's fds only).
enum class Doorbells { kPerChannel, kShared };

struct HostOptions {
  CatalogMode catalog = CatalogMode::kDecodeOnWorker;
  Doorbells doorbells = Doorbells::kPerChannel;
};

struct CatalogCounters {
  std::atomic<std::uint64_t> fragments{0};
  std::atomic<std::uint64_t> blobs_joined{0};
  std::atomic<std::uint64_t> decoded{0};       // catalogues accepted (apps replaced)
  std::atomic<std::uint64_t> refused{0};       // join or decode errors
  std::atomic<std::uint64_t> apps{0};          // applications of the last accepted catalogue
  std::atomic<std::uint64_t> worker_dropped{0};  // blobs replaced by a newer one before the worker took them
};

class Host {
 public:
  // Bus, doorbells, HostMux (hello answered by the guest side here), headless RemoteDisplay with
  // surfaces, a 1024x768 framebuffer and kSessionWindows windows. Error: why not (no EGL, ...).
  static std::expected<std::unique_ptr<Host>, std::string> create(HostOptions options = {});
  ~Host();

  ringbus::Bus& host_bus() { return *host_; }
  ringbus::Bus& guest_bus() { return *guest_; }
  rdpmux::BusDoorbells& guest_bells() { return *guest_bells_; }
  rdpmux::HostMux& mux() { return *mux_; }
  viewer::RemoteDisplay& display() { return *display_; }
  const CatalogCounters& catalog() const { return catalog_; }

  // Opens a connection on kConnectionChannel; the guest side answers Opened from a helper thread.
  std::expected<std::unique_ptr<rdpmux::Connection>, std::string> open_connection();

 private:
  Host() = default;
  void on_fragment(std::span<const std::byte> fragment);

  HostOptions options_;
  std::unique_ptr<ringbus::Bus> host_, guest_;
  std::unique_ptr<rdpmux::BusDoorbells> guest_bells_;
  std::unique_ptr<rdpmux::HostMux> mux_;
  std::unique_ptr<viewer::RemoteDisplay> display_;

  catalog::CatalogReassembler reassembler_;
  std::vector<catalog::AppEntry> apps_;  // what the host keeps of an accepted catalogue
  CatalogCounters catalog_;
  // kDecodeOnWorker: the newest joined blob waits here (latest wins).
  // kDecodeOnWorker: what `vitrine run` does (rdpmux::CatalogDecoder).
  std::unique_ptr<rdpmux::CatalogDecoder> decoder_;
};

// Per-turn latency of a loop, microseconds.
struct TurnTimes {
  std::vector<double> us;
  double max_us() const;
  double percentile_us(double p) const;  // sorts a copy
};

struct UiLoopResult {
  TurnTimes turns;
  std::uint64_t wakeups = 0;   // poll() returned with a readable fd
  std::uint64_t timeouts = 0;  // poll() slept its whole timeout
  double seconds = 0;
  Rss rss_before, rss_after, rss_peak;
};

// The UI loop of Instance::run for `duration`: arm the control wake (none with a shared doorbell),
// display.prepare_sleep(), poll() the display's wake fds (100 ms when idle, 0 when work is left),
// then one timed turn: display.dispatch() + mux.poll(). RSS is sampled every 50 ms outside the
// timed part.
UiLoopResult run_ui_loop(Host& host, std::chrono::milliseconds duration);

// ---- guest side (the attack thread, or the setup before it) ----------------------------------
// The next host message on the guest's control channel, or nullopt after `timeout`.
std::optional<rdpmux::ControlMessage> guest_receive_control(ringbus::Bus& guest, std::chrono::milliseconds timeout);
// One record on the guest's g2h ring of `channel`; false when the ring is full now.
bool guest_try_send(ringbus::Bus& guest, std::uint32_t channel, std::uint16_t type, std::span<const std::byte> payload);
bool guest_try_send(ringbus::Bus& guest, const rdpmux::ControlMessage& message);
// Reads and drops every host message waiting on the guest's h2g ring of `channel`; value: how many.
std::uint64_t guest_drain(ringbus::Bus& guest, std::uint32_t channel);

}  // namespace vitrine::bench::hostile
