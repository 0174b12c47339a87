// Wire layout of the surface channel: window pixels in the bus's surface pool (ringbus
// layout.hpp) instead of RDP bitmaps. Logic-free: fixed-width little-endian integers, explicit
// padding, static_asserts on every size and offset. Any change bumps kSurfaceProtocolVersion.
//
// The channel is Bus::surface_channel(); every record is one message, record type = message type,
// payload = the struct (exactly sizeof() bytes; Present is followed by its rectangles).
//
//   host (viewer)                              guest (vitrine-appserver)
//    | HostReady{version, limits}          ->  |  the host reads surfaces now; the guest forgets
//    |                                         |  every surface it had and starts afresh
//    | <- Create{surface, window, w, h, stride, format, buffers, offsets}
//    | <- Present{surface, buffer, sequence, rects...}   the buffer's pixels inside rects are the
//    | Released{surface, buffer, sequence} ->  |  window's new content; the host owns the buffer
//    |                                         |  until it sends Released
//    | <- Resize{same fields as Create}        |  new geometry and buffers; the old buffers are
//    |                                         |  the guest's again once each was Released
//    | <- Destroy{surface}                     |
//    | Dropped{surface, reason}            ->  |  the host refused the surface (a fault): paint
//    |                                         |  that window over RDP again
//    | Refresh{surface}                    ->  |  the host lost the surface's content (it saw the
//    |                                         |  pixels before the window): present all of it
//
// Buffers: each surface has kMinBuffers..kMaxBuffers buffers in the pool, and a buffer is in one
// of two hands. The guest writes only buffers the host does not own; a Present hands one to the
// host, which uploads the damaged rectangles and hands it back with Released. So the host never
// uploads a frame the guest is still writing, and the guest paints the next frame into another
// buffer meanwhile (double buffering). A Present names only the rectangles that changed since the
// previous Present of the surface: the host's texture holds the rest. The guest therefore has to
// write, into the buffer it presents, at least the pixels inside the rectangles it names.
//
// Sequence numbers: per surface, strictly increasing from 1 across Presents; the host drops a
// Present that does not increase it (a replayed or reordered frame) and counts it.
//
// Trust: everything in these records comes from the guest. The host copies each record once,
// checks offsets and sizes against the pool bounds it took at attach, rectangles against the
// surface, counts against the caps below, and reads the pool only as pixel values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace vitrine::rdpmux {

inline constexpr std::uint32_t kSurfaceProtocolVersion = 1;

// Message types (ringbus record type) on the surface channel.
inline constexpr std::uint16_t kSurfaceCreate = 1;     // guest -> host
inline constexpr std::uint16_t kSurfaceResize = 2;     // guest -> host
inline constexpr std::uint16_t kSurfacePresent = 3;    // guest -> host
inline constexpr std::uint16_t kSurfaceDestroy = 4;    // guest -> host
inline constexpr std::uint16_t kSurfaceHostReady = 16; // host -> guest
inline constexpr std::uint16_t kSurfaceReleased = 17;  // host -> guest
inline constexpr std::uint16_t kSurfaceDropped = 18;   // host -> guest
inline constexpr std::uint16_t kSurfaceRefresh = 19;   // host -> guest

inline constexpr std::uint32_t kSurfaceFormatBgrx8888 = 1;  // bytes B,G,R,X; X ignored

inline constexpr std::uint32_t kSurfaceMinBuffers = 2;
inline constexpr std::uint32_t kSurfaceMaxBuffers = 3;
inline constexpr std::uint32_t kSurfaceMaxSide = 16384;       // pixels, as the compositor's limit
inline constexpr std::uint32_t kSurfaceMaxPresentRects = 64;  // more: the guest sends the bounds
inline constexpr std::uint32_t kSurfaceMaxSurfaces = 1024;    // per session (HostReady says less)

// Why the host dropped a surface (Dropped::reason).
inline constexpr std::uint32_t kDropMalformed = 1;     // a record of the wrong size or values
inline constexpr std::uint32_t kDropOutOfPool = 2;     // a buffer outside the pool
inline constexpr std::uint32_t kDropBadPresent = 3;    // unknown/owned buffer, old sequence, rects
inline constexpr std::uint32_t kDropNoWindow = 4;      // the window is unknown to the host display
inline constexpr std::uint32_t kDropLimit = 5;         // over max_surfaces

struct SurfaceCreateMsg {  // kSurfaceCreate and kSurfaceResize
  std::uint32_t surface_id;    // guest-chosen, non-zero
  std::uint32_t window_id;     // the RemoteApp window it paints (RAIL window id)
  std::uint32_t width;         // pixels, 1..kSurfaceMaxSide
  std::uint32_t height;
  std::uint32_t stride;        // bytes per row, >= width * 4, multiple of 4
  std::uint32_t format;        // kSurfaceFormat*
  std::uint32_t buffer_count;  // kSurfaceMinBuffers..kSurfaceMaxBuffers
  std::uint32_t reserved0;
  std::uint64_t buffer_offset[kSurfaceMaxBuffers];  // pool-relative; stride * height bytes each
  std::uint64_t reserved1;
};
static_assert(sizeof(SurfaceCreateMsg) == 64);
static_assert(offsetof(SurfaceCreateMsg, surface_id) == 0);
static_assert(offsetof(SurfaceCreateMsg, window_id) == 4);
static_assert(offsetof(SurfaceCreateMsg, width) == 8);
static_assert(offsetof(SurfaceCreateMsg, height) == 12);
static_assert(offsetof(SurfaceCreateMsg, stride) == 16);
static_assert(offsetof(SurfaceCreateMsg, format) == 20);
static_assert(offsetof(SurfaceCreateMsg, buffer_count) == 24);
static_assert(offsetof(SurfaceCreateMsg, reserved0) == 28);
static_assert(offsetof(SurfaceCreateMsg, buffer_offset) == 32);
static_assert(offsetof(SurfaceCreateMsg, reserved1) == 56);
static_assert(std::is_trivially_copyable_v<SurfaceCreateMsg>);

struct SurfaceRectWire {  // surface coordinates
  std::int32_t x;
  std::int32_t y;
  std::int32_t width;
  std::int32_t height;
};
static_assert(sizeof(SurfaceRectWire) == 16);
static_assert(offsetof(SurfaceRectWire, x) == 0);
static_assert(offsetof(SurfaceRectWire, y) == 4);
static_assert(offsetof(SurfaceRectWire, width) == 8);
static_assert(offsetof(SurfaceRectWire, height) == 12);

struct SurfacePresentMsg {  // followed by rect_count SurfaceRectWire
  std::uint32_t surface_id;
  std::uint32_t buffer;        // index < buffer_count
  std::uint64_t sequence;      // per surface, strictly increasing from 1
  std::uint64_t damage_ns;     // guest CLOCK_MONOTONIC when the damage was seen (telemetry)
  std::uint32_t rect_count;    // 1..kSurfaceMaxPresentRects
  std::uint32_t reserved0;
};
static_assert(sizeof(SurfacePresentMsg) == 32);
static_assert(offsetof(SurfacePresentMsg, surface_id) == 0);
static_assert(offsetof(SurfacePresentMsg, buffer) == 4);
static_assert(offsetof(SurfacePresentMsg, sequence) == 8);
static_assert(offsetof(SurfacePresentMsg, damage_ns) == 16);
static_assert(offsetof(SurfacePresentMsg, rect_count) == 24);
static_assert(offsetof(SurfacePresentMsg, reserved0) == 28);
static_assert(std::is_trivially_copyable_v<SurfacePresentMsg>);
inline constexpr std::size_t kSurfacePresentMaxBytes =
    sizeof(SurfacePresentMsg) + kSurfaceMaxPresentRects * sizeof(SurfaceRectWire);

struct SurfaceDestroyMsg {
  std::uint32_t surface_id;
  std::uint32_t reserved0;
};
static_assert(sizeof(SurfaceDestroyMsg) == 8);
static_assert(offsetof(SurfaceDestroyMsg, surface_id) == 0);
static_assert(offsetof(SurfaceDestroyMsg, reserved0) == 4);

struct SurfaceHostReadyMsg {
  std::uint32_t version;       // kSurfaceProtocolVersion
  std::uint32_t max_surfaces;  // <= kSurfaceMaxSurfaces
  std::uint64_t session;       // changes with every host receiver: replies name it
};
static_assert(sizeof(SurfaceHostReadyMsg) == 16);
static_assert(offsetof(SurfaceHostReadyMsg, version) == 0);
static_assert(offsetof(SurfaceHostReadyMsg, max_surfaces) == 4);
static_assert(offsetof(SurfaceHostReadyMsg, session) == 8);

struct SurfaceReleasedMsg {
  std::uint32_t surface_id;
  std::uint32_t buffer;
  std::uint64_t sequence;  // of the Present that handed the buffer over
};
static_assert(sizeof(SurfaceReleasedMsg) == 16);
static_assert(offsetof(SurfaceReleasedMsg, surface_id) == 0);
static_assert(offsetof(SurfaceReleasedMsg, buffer) == 4);
static_assert(offsetof(SurfaceReleasedMsg, sequence) == 8);

struct SurfaceDroppedMsg {
  std::uint32_t surface_id;
  std::uint32_t reason;  // kDrop*
};
static_assert(sizeof(SurfaceDroppedMsg) == 8);
static_assert(offsetof(SurfaceDroppedMsg, surface_id) == 0);
static_assert(offsetof(SurfaceDroppedMsg, reason) == 4);

struct SurfaceRefreshMsg {
  std::uint32_t surface_id;
  std::uint32_t reserved0;
};
static_assert(sizeof(SurfaceRefreshMsg) == 8);
static_assert(offsetof(SurfaceRefreshMsg, surface_id) == 0);
static_assert(offsetof(SurfaceRefreshMsg, reserved0) == 4);

}  // namespace vitrine::rdpmux
