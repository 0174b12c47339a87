// The benchmark protocol between bench_e2e's client and a RailTestServer it cannot call
// directly (rail_bench_server in a QEMU guest). Only RDP crosses: client mouse moves ask for
// paints, and the stamp pixel of each paint tells the client which one it decoded.
//
//   desktop 1024x768 (desktop coordinates); every paint is kSide x kSide at (0, 0), pixel
//   (kSide-1, kSide-1) painted last carries the stamp (BGRX, low 24 bits), every other pixel is
//   test_pattern(x, y, stamp): the same bytes as bench_e2e's in-process paints.
//
//   ready    after the client's RAIL handshake (wait_ready) the server paints pixel
//            (kSide-1, kSide-1) alone with kReadyStamp: the client's "connected" mark.
//   probe    mouse move to (x, y), y < kTriggerTop: one paint, stamp probe_stamp(x, y)
//            (input-to-paint: move -> server sees it -> paints -> client decodes)
//   batch    mouse move to (x, y), y >= kTriggerTop: kBatch back-to-back paints, paint i with
//            batch_stamp(batch_index(x, y), i) (update throughput: the client waits for the last)
//
// Stamps are n * 2654435761 mod 2^24, a bijection on 24-bit n, and the three kinds take
// disjoint ranges of n: no two paints of a session share a stamp (positions do not repeat).
#pragma once

#include <cstdint>

#include "rail_test_server.hpp"

namespace vitrine::testing::bench_protocol {

constexpr std::uint32_t kSide = 256;
constexpr int kBatch = 8;
constexpr std::int32_t kDesktopWidth = 1024;
constexpr std::int32_t kDesktopHeight = 768;
constexpr std::int32_t kTriggerTop = 720;

constexpr std::uint32_t stamp_of(std::uint32_t n) { return (n * 2654435761u) & 0xFFFFFFu; }
// n in [1, 1 + 720 * 1024): below the batch range.
constexpr std::uint32_t probe_stamp(std::int32_t x, std::int32_t y) {
  return stamp_of(1u + static_cast<std::uint32_t>(y) * kDesktopWidth + static_cast<std::uint32_t>(x));
}
// The batch a trigger position asks for: 0 .. 48 * 1024 - 1.
constexpr std::uint32_t batch_index(std::int32_t x, std::int32_t y) {
  return static_cast<std::uint32_t>(y - kTriggerTop) * kDesktopWidth + static_cast<std::uint32_t>(x);
}
// n in [2^20, 2^20 + 48 * 1024 * 8): above every probe.
constexpr std::uint32_t batch_stamp(std::uint32_t batch, int i) {
  return stamp_of((1u << 20) + batch * kBatch + static_cast<std::uint32_t>(i));
}
// n = 2^24 - 1: in neither range.
constexpr std::uint32_t kReadyStamp = stamp_of(0xFFFFFFu);

// The pixel (x, y) of a paint stamped `stamp`.
inline std::uint32_t stamped_pixel(std::int32_t x, std::int32_t y, std::uint32_t stamp) {
  return (x == static_cast<std::int32_t>(kSide) - 1 && y == static_cast<std::int32_t>(kSide) - 1)
             ? (0xFF000000u | stamp)
             : test_pattern(x, y, stamp);
}

inline bool paint_stamp(RailTestServer& server, std::uint32_t stamp) {
  return server.paint(0, 0, kSide, kSide, [&](std::int32_t x, std::int32_t y) { return stamped_pixel(x, y, stamp); });
}

}  // namespace vitrine::testing::bench_protocol
