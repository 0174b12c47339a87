// The protocol between hv_surface_stamp_app (the X client inside the QEMU surface guest) and the
// host side that checks or measures it (qemu_surface_test.cpp, bench_e2e's qemu_surface_cases).
// The host cannot call into the guest, so it drives the application with pointer motion through
// RemoteApp (the appserver injects it with XTest), as the RDP QEMU cases drive rail_bench_server:
//
//   start            one paint with kFirstStamp (StampWindow's slot 0): a known full-window image
//   motion, y < kTriggerTop     one paint, stamp probe_stamp(x, y)            (input-to-paint)
//   motion, y >= kTriggerTop    kBatch paints, stamps batch_stamp(x, y, 0..kBatch-1) (updates)
//
// (x, y) are window coordinates. Every paint is StampWindow::paint(): the whole kSide x kSide
// window from the next of StampWindow's image slots, with the stamp in pixel (kSide-1, kSide-1).
#pragma once

#include <cstdint>

namespace vitrine::hv::test::surface_stamp {

constexpr int kSide = 256;  // StampWindow::kSide
constexpr int kSlots = 8;   // StampWindow::kSlots
constexpr int kWindowX = 64;  // the window's place on the guest desktop (no window manager)
constexpr int kWindowY = 64;
constexpr int kDesktopWidth = 1024;  // the guest Xvfb's screen
constexpr int kDesktopHeight = 768;
constexpr int kBatch = 8;
static_assert(kBatch <= kSlots, "a batch may not rewrite an image the X server may still read");
constexpr int kTriggerTop = 192;

// Three disjoint ranges, none 0 (the unpainted pixel): first 0x3C5A96, probes 0x80yyxx,
// batches 0x400000 | index << 3 | i.
constexpr std::uint32_t kFirstStamp = 0x3C5A96;
constexpr std::uint32_t probe_stamp(int x, int y) {  // StampWindow::stamp_for_motion
  return 0x800000u | (static_cast<std::uint32_t>(y & 0xFF) << 8) | static_cast<std::uint32_t>(x & 0xFF);
}
constexpr std::uint32_t batch_stamp(int x, int y, int i) {
  const auto index = static_cast<std::uint32_t>((y - kTriggerTop) * kSide + x);  // < 2^14
  return 0x400000u | (index << 3) | static_cast<std::uint32_t>(i);
}

// The pixel StampWindow paints at (x, y) from image slot `slot`, low 24 bits (a depth-24 window
// keeps no more). Mirrors StampWindow::open()'s fill: kept in step with stamp_window.cpp by the
// QEMU surface test, which fails pixel by pixel if they drift apart.
constexpr std::uint32_t pattern_pixel(int x, int y, int slot, std::uint32_t stamp) {
  if (x == kSide - 1 && y == kSide - 1) return stamp & 0xFFFFFF;
  return ((static_cast<std::uint32_t>(x * 3 + slot) << 16) | (static_cast<std::uint32_t>(y * 5) << 8) |
          static_cast<std::uint32_t>(x ^ y)) &
         0xFFFFFF;
}

// The line the application prints on its stdout (the guest's serial console) once its window is
// mapped and its first paint was sent: "<kReadyLine> 0x<window id in hex>".
constexpr const char* kReadyLine = "hv_surface_stamp_app: window";

}  // namespace vitrine::hv::test::surface_stamp
