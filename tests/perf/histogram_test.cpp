#include "vitrine/perf/histogram.hpp"

#include <gtest/gtest.h>

#include <random>

namespace vitrine::perf {
namespace {

TEST(HistogramTest, BucketsCoverEveryValueWithBoundedError) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 64);
    if (v >= (std::uint64_t{1} << LatencyHistogram::kMaxBits)) continue;
    const auto idx = LatencyHistogram::index_of(v);
    ASSERT_LT(idx, LatencyHistogram::kBuckets);
    const auto hi = LatencyHistogram::upper_bound_of(idx);
    ASSERT_GE(hi, v);
    if (idx > 0) {
      ASSERT_LT(LatencyHistogram::upper_bound_of(idx - 1), v) << v;
    }
    ASSERT_LE(static_cast<double>(hi - v), static_cast<double>(v) / 16.0 + 1.0) << v;  // <= 6.25 %
  }
  EXPECT_EQ(LatencyHistogram::index_of(~std::uint64_t{0}), LatencyHistogram::kBuckets - 1);
}

TEST(HistogramTest, PercentilesOfUniformValues) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v * 1000);
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 5.0e6, 5.0e6 * 0.07);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 9.9e6, 9.9e6 * 0.07);
  EXPECT_EQ(h.percentile(1.0), 10'000'000u);
  EXPECT_EQ(h.max(), 10'000'000u);
  EXPECT_NEAR(h.mean(), 5'000'500.0, 1.0);
}

TEST(HistogramTest, MergeAndJson) {
  LatencyHistogram a, b;
  a.record(10);
  b.record(20);
  b.record(30);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 30u);
  const auto json = a.to_json();
  EXPECT_NE(json.find("\"count\":3"), std::string::npos) << json;
  a.clear();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.percentile(0.5), 0u);
}

TEST(HistogramTest, StageTelemetryReportsEveryStage) {
  StageTelemetry t;
  t.stage(Stage::kCommitToHostRead).record(1500);
  t.stage(Stage::kEndToEnd).record(900000);
  const auto json = t.to_json();
  for (auto s : {Stage::kGuestReceiveToCommit, Stage::kCommitToHostRead, Stage::kHostReadToPaint,
                 Stage::kPaintToUpload, Stage::kUploadToPresent, Stage::kEndToEnd})
    EXPECT_NE(json.find(stage_name(s)), std::string::npos) << json;
  const auto table = t.to_table();
  EXPECT_NE(table.find("commit_to_host_read"), std::string::npos);
  EXPECT_EQ(table.find("paint_to_upload"), std::string::npos) << "stages without data are left out";
}

}  // namespace
}  // namespace vitrine::perf
