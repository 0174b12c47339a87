// LatencyHistogram: log-linear buckets for durations in nanoseconds (HdrHistogram's idea with
// fixed precision): values 0..15 exactly, then each power of two split into 16 sub-buckets,
// i.e. at most 6.25% relative error, up to 2^40 ns (18 minutes); larger values saturate.
//
// One writer thread calls record(); any thread may read (snapshot, percentile): the buckets are
// relaxed atomics updated with load+store (no locked instructions on the hot path).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace vitrine::perf {

class LatencyHistogram {
 public:
  static constexpr unsigned kSubBits = 4;                  // 16 sub-buckets per power of two
  static constexpr unsigned kMaxBits = 40;                 // 2^40 ns
  static constexpr std::size_t kBuckets = (kMaxBits - kSubBits + 1) << kSubBits;

  void record(std::uint64_t ns) {
    auto& b = buckets_[index_of(ns)];
    b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    count_.store(count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    sum_.store(sum_.load(std::memory_order_relaxed) + ns, std::memory_order_relaxed);
    if (ns > max_.load(std::memory_order_relaxed)) max_.store(ns, std::memory_order_relaxed);
  }

  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  std::uint64_t max() const { return max_.load(std::memory_order_relaxed); }
  double mean() const;
  // Upper bound of the bucket holding the q-quantile (0 <= q <= 1); 0 if empty.
  std::uint64_t percentile(double q) const;
  // Adds another histogram's counts (e.g. per-thread histograms into one report).
  void merge(const LatencyHistogram& other);
  void clear();
  // {"count":..,"mean_ns":..,"p50_ns":..,"p90_ns":..,"p99_ns":..,"p999_ns":..,"max_ns":..}
  std::string to_json() const;

  static std::size_t index_of(std::uint64_t ns);
  static std::uint64_t upper_bound_of(std::size_t index);

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

// The stages of one frame's journey, in order. Histograms of the time between consecutive
// stage boundaries; see docs/perf.md for which process measures which.
enum class Stage : std::uint8_t {
  kGuestReceiveToCommit,   // relay: socket data received -> ring commit
  kCommitToHostRead,       // bus: ring commit -> host consumer read (same clock in the sandbox)
  kHostReadToPaint,        // host: bytes handed to FreeRDP -> paint callback
  kPaintToUpload,          // compositor: damage -> texture upload done
  kUploadToPresent,        // compositor: upload -> buffer swap
  kEndToEnd,               // guest receive -> present
  // The surface path (bus surfaces: no RDP, no decode):
  kSurfaceDamageToRead,    // guest: X damage seen -> host read the Present (clock-synced)
  kSurfaceReadToUpload,    // host: Present read -> damaged rectangles uploaded from the pool
  kSurfaceUploadToPresent, // host: uploads done -> windows drawn and swapped
  kSurfaceEndToEnd,        // guest damage -> on screen
  kCount
};
const char* stage_name(Stage stage);

class StageTelemetry {
 public:
  LatencyHistogram& stage(Stage s) { return stages_[static_cast<std::size_t>(s)]; }
  const LatencyHistogram& stage(Stage s) const { return stages_[static_cast<std::size_t>(s)]; }
  // {"stages":{"guest_receive_to_commit":{...},...}}
  std::string to_json() const;
  // One line per stage with data: "stage  count  p50  p99  max".
  std::string to_table() const;

 private:
  std::array<LatencyHistogram, static_cast<std::size_t>(Stage::kCount)> stages_;
};

}  // namespace vitrine::perf
