// What the RDP client tells the display (the compositor adapter in cli/): where the desktop
// framebuffer lives and which rectangles of it each paint changed. No GL here.
//
// Pixel format: 32-bit BGRX (bytes B, G, R, X in memory; FreeRDP PIXEL_FORMAT_BGRX32), rows
// top-down, `stride` bytes apart. Coordinates are desktop coordinates.
//
// All calls come from the RdpClient's session thread. The framebuffer's pixels change only on
// that thread, between damaged() calls: a sink that uploads on another thread must do so before
// returning from damaged() or copy the rectangles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vitrine/rdpmux/host/geometry.hpp"

namespace vitrine::rdpmux::host {

struct FramebufferView {
  std::byte* pixels = nullptr;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t stride = 0;  // bytes per row
};

class DisplaySink {
 public:
  virtual ~DisplaySink() = default;
  // At connect and at every desktop resize: memory for FreeRDP to decode into, at least
  // `stride * height` bytes, 16-byte aligned, owned by the sink and left in place until the next
  // call or until the session ends (an upload-friendly buffer, e.g. a persistently mapped pixel
  // buffer). An empty span lets the client allocate page-aligned memory itself.
  virtual std::span<std::byte> provide_framebuffer(std::uint32_t width, std::uint32_t height,
                                                   std::uint32_t stride) {
    (void)width, (void)height, (void)stride;
    return {};
  }
  // The framebuffer FreeRDP now decodes into (after connect or resize).
  virtual void framebuffer_changed(const FramebufferView& framebuffer) = 0;
  // One paint finished: `rects` (clipped to the desktop, non-empty) changed.
  virtual void damaged(const FramebufferView& framebuffer, std::span<const DesktopRect> rects) = 0;
  // FreeRDP is about to process what arrived (it may decode into the framebuffer, resize it
  // and call the methods above) / is done with it until more arrives. Session thread, paired,
  // never nested. A sink that reads the framebuffer on another thread keeps its reads out of
  // these spans (no torn frame) instead of making each paint wait for its reader.
  virtual void framebuffer_writes_begin() {}
  virtual void framebuffer_writes_end() {}
};

}  // namespace vitrine::rdpmux::host
