// Surface channel messages (surface_layout.hpp) as values: decoding copies a record's payload
// once into a local struct and checks everything that can be checked without the host's surface
// table: sizes, counts, formats, geometry against the pool's size, rectangles against nothing yet
// (the table knows the surface). Encoding writes a message into a ring record in place.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "vitrine/rdpmux/surface_layout.hpp"
#include "vitrine/ringbus/channel.hpp"

namespace vitrine::rdpmux {

// One record's refusal: the kDrop* reason the host sends back, and words for the log.
struct SurfaceFault {
  std::uint32_t reason = kDropMalformed;
  std::uint32_t surface_id = 0;  // 0 when the record did not say (or lied about its size)
  std::string what;
};

struct SurfaceGeometry {
  std::uint32_t surface_id = 0;
  std::uint32_t window_id = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t stride = 0;
  std::uint32_t buffer_count = 0;
  std::uint64_t buffer_offset[kSurfaceMaxBuffers] = {};
  bool resize = false;  // Resize rather than Create
};

struct SurfacePresent {
  std::uint32_t surface_id = 0;
  std::uint32_t buffer = 0;
  std::uint64_t sequence = 0;
  std::uint64_t damage_ns = 0;
  std::vector<SurfaceRectWire> rects;  // 1..kSurfaceMaxPresentRects, not yet clipped
};

struct SurfaceDestroy {
  std::uint32_t surface_id = 0;
};

using GuestSurfaceMessage = std::variant<SurfaceGeometry, SurfacePresent, SurfaceDestroy>;
using HostSurfaceMessage = std::variant<SurfaceHostReadyMsg, SurfaceReleasedMsg, SurfaceDroppedMsg, SurfaceRefreshMsg>;

// Host: one guest record. `pool_size`: Bus::surface_pool_size(); every buffer of a Create/Resize
// must lie inside [0, pool_size) (checked with subtractions, no overflow).
std::expected<GuestSurfaceMessage, SurfaceFault> decode_guest_surface(std::uint16_t type,
                                                                      std::span<const std::byte> payload,
                                                                      std::uint64_t pool_size);
// Guest: one host record.
std::expected<HostSurfaceMessage, std::string> decode_host_surface(std::uint16_t type,
                                                                   std::span<const std::byte> payload);

// Writers: claim, fill, commit; false when the ring has no room now (nothing is written), an
// error when the ring faulted. They do not ring doorbells: call Channel::notify_sent() after a
// batch.
ringbus::Result<bool> send_surface_geometry(ringbus::Ring& tx, const SurfaceGeometry& g);
ringbus::Result<bool> send_surface_present(ringbus::Ring& tx, const SurfacePresentMsg& header,
                                           std::span<const SurfaceRectWire> rects);
ringbus::Result<bool> send_surface_destroy(ringbus::Ring& tx, std::uint32_t surface_id);
ringbus::Result<bool> send_surface_host_ready(ringbus::Ring& tx, const SurfaceHostReadyMsg& m);
ringbus::Result<bool> send_surface_released(ringbus::Ring& tx, const SurfaceReleasedMsg& m);
ringbus::Result<bool> send_surface_dropped(ringbus::Ring& tx, const SurfaceDroppedMsg& m);
ringbus::Result<bool> send_surface_refresh(ringbus::Ring& tx, const SurfaceRefreshMsg& m);

}  // namespace vitrine::rdpmux
