#include "vitrine/perf/histogram.hpp"

#include <bit>
#include <cstdio>

namespace vitrine::perf {

std::size_t LatencyHistogram::index_of(std::uint64_t ns) {
  if (ns < (1u << kSubBits)) return static_cast<std::size_t>(ns);
  const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(ns));
  if (msb >= kMaxBits) return kBuckets - 1;
  const unsigned shift = msb - kSubBits;
  const std::uint64_t sub = (ns >> shift) & ((1u << kSubBits) - 1);
  return ((msb - kSubBits + 1) << kSubBits) + sub;
}

std::uint64_t LatencyHistogram::upper_bound_of(std::size_t index) {
  if (index < (1u << kSubBits)) return index;
  const std::size_t group = index >> kSubBits;  // >= 1
  const std::uint64_t sub = index & ((1u << kSubBits) - 1);
  const unsigned shift = static_cast<unsigned>(group - 1);
  return (((std::uint64_t{1} << kSubBits) + sub + 1) << shift) - 1;
}

double LatencyHistogram::mean() const {
  const auto n = count();
  return n ? static_cast<double>(sum_.load(std::memory_order_relaxed)) / static_cast<double>(n) : 0.0;
}

std::uint64_t LatencyHistogram::percentile(double q) const {
  const std::uint64_t n = count();
  if (n == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(n - 1)) + 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return std::min(upper_bound_of(i), max());
  }
  return max();
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i)
    buckets_[i].store(buckets_[i].load(std::memory_order_relaxed) + other.buckets_[i].load(std::memory_order_relaxed),
                      std::memory_order_relaxed);
  count_.store(count() + other.count(), std::memory_order_relaxed);
  sum_.store(sum_.load(std::memory_order_relaxed) + other.sum_.load(std::memory_order_relaxed),
             std::memory_order_relaxed);
  if (other.max() > max()) max_.store(other.max(), std::memory_order_relaxed);
}

void LatencyHistogram::clear() {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
  count_.store(0, std::memory_order_relaxed);
  sum_.store(0, std::memory_order_relaxed);
  max_.store(0, std::memory_order_relaxed);
}

std::string LatencyHistogram::to_json() const {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "{\"count\":%llu,\"mean_ns\":%.1f,\"p50_ns\":%llu,\"p90_ns\":%llu,\"p99_ns\":%llu,"
                "\"p999_ns\":%llu,\"max_ns\":%llu}",
                static_cast<unsigned long long>(count()), mean(),
                static_cast<unsigned long long>(percentile(0.5)), static_cast<unsigned long long>(percentile(0.9)),
                static_cast<unsigned long long>(percentile(0.99)),
                static_cast<unsigned long long>(percentile(0.999)), static_cast<unsigned long long>(max()));
  return buf;
}

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::kGuestReceiveToCommit: return "guest_receive_to_commit";
    case Stage::kCommitToHostRead: return "commit_to_host_read";
    case Stage::kHostReadToPaint: return "host_read_to_paint";
    case Stage::kPaintToUpload: return "paint_to_upload";
    case Stage::kUploadToPresent: return "upload_to_present";
    case Stage::kEndToEnd: return "end_to_end";
    case Stage::kSurfaceDamageToRead: return "surface_damage_to_read";
    case Stage::kSurfaceReadToUpload: return "surface_read_to_upload";
    case Stage::kSurfaceUploadToPresent: return "surface_upload_to_present";
    case Stage::kSurfaceEndToEnd: return "surface_end_to_end";
    case Stage::kCount: break;
  }
  return "unknown";
}

std::string StageTelemetry::to_json() const {
  std::string s = "{\"stages\":{";
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (i) s += ',';
    s += '"';
    s += stage_name(static_cast<Stage>(i));
    s += "\":";
    s += stages_[i].to_json();
  }
  s += "}}";
  return s;
}

std::string StageTelemetry::to_table() const {
  std::string s;
  char line[160];
  std::snprintf(line, sizeof line, "%-26s %10s %10s %10s %10s\n", "stage", "count", "p50_us", "p99_us", "max_us");
  s += line;
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    const auto& h = stages_[i];
    if (h.count() == 0) continue;
    std::snprintf(line, sizeof line, "%-26s %10llu %10.1f %10.1f %10.1f\n", stage_name(static_cast<Stage>(i)),
                  static_cast<unsigned long long>(h.count()), static_cast<double>(h.percentile(0.5)) / 1e3,
                  static_cast<double>(h.percentile(0.99)) / 1e3, static_cast<double>(h.max()) / 1e3);
    s += line;
  }
  return s;
}

}  // namespace vitrine::perf
