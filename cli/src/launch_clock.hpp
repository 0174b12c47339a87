// LaunchClock: click-to-window times of `vitrine launch` (and menu entries), for `vitrine stats`
// and the telemetry file.
//
// A launch starts the clock when the launcher socket takes the request (before the RAIL exec),
// and the next application window the guest creates stops it (RemoteDisplay::
// top_level_windows_created(): no owner, not a popup). Launches are matched to windows in
// order; one whose window never comes expires after kGiveUp (the application may have no
// window, or failed). Cold start: the instance's start to its first application window.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vitrine/perf/histogram.hpp"

namespace vitrine::cli {

class LaunchClock {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kGiveUp{60};
  static constexpr std::size_t kMaxPending = 64;

  explicit LaunchClock(Clock::time_point instance_started) : started_(instance_started) {}

  // Launcher threads: a launch request arrived at `at`; `startup_id`: its XDG startup
  // notification (StartupNotify), empty for none.
  void launch_requested(Clock::time_point at, std::string startup_id = {});
  // Startup ids whose launch got its window, and those that gave up (either way: "remove:").
  struct Ended {
    std::vector<std::string> with_window;  // in the order of the new windows
    std::vector<std::string> without_window;
  };
  // UI thread: the guest had created `total` application windows by `now` (a running count).
  Ended windows_created(std::uint64_t total, Clock::time_point now);

  // "p50 210 ms, p99 380 ms, max 401 ms (12 launches, 1 without a window)"; "none yet".
  [[nodiscard]] std::string warm_summary() const;
  // The instance's start to its first application window ("1834 ms"), or "no window yet".
  [[nodiscard]] std::string cold_summary() const;
  [[nodiscard]] const perf::LatencyHistogram& warm() const { return warm_; }
  [[nodiscard]] std::optional<Clock::duration> cold() const;

 private:
  const Clock::time_point started_;
  mutable std::mutex mutex_;
  struct Pending {
    Clock::time_point at;
    std::string startup_id;
  };
  std::deque<Pending> pending_;            // guarded by mutex_, oldest first
  std::vector<std::string> evicted_;       // guarded by mutex_: startup ids pushed out by the cap
  std::uint64_t expired_ = 0;              // guarded by mutex_
  std::uint64_t seen_ = 0;                 // UI thread: windows counted so far
  std::optional<Clock::duration> cold_;    // guarded by mutex_
  perf::LatencyHistogram warm_;            // written by the UI thread only
};

}  // namespace vitrine::cli
