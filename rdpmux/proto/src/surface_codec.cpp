#include "vitrine/rdpmux/surface_codec.hpp"

#include <cstring>

namespace vitrine::rdpmux {
namespace {

std::unexpected<SurfaceFault> refuse(std::uint32_t reason, std::uint32_t surface, std::string what) {
  return std::unexpected(SurfaceFault{reason, surface, std::move(what)});
}

// One copy of a fixed-size record: the only read of those ring bytes.
template <typename T>
bool copy_exact(std::span<const std::byte> payload, T& out) {
  if (payload.size() != sizeof(T)) return false;
  std::memcpy(&out, payload.data(), sizeof(T));
  return true;
}

std::expected<GuestSurfaceMessage, SurfaceFault> decode_geometry(std::span<const std::byte> payload,
                                                                 std::uint64_t pool_size, bool resize) {
  SurfaceCreateMsg m;
  if (!copy_exact(payload, m))
    return refuse(kDropMalformed, 0, "Create/Resize of " + std::to_string(payload.size()) + " bytes");
  const std::uint32_t id = m.surface_id;
  if (id == 0) return refuse(kDropMalformed, 0, "surface id 0");
  if (m.format != kSurfaceFormatBgrx8888)
    return refuse(kDropMalformed, id, "pixel format " + std::to_string(m.format));
  if (m.width == 0 || m.height == 0 || m.width > kSurfaceMaxSide || m.height > kSurfaceMaxSide)
    return refuse(kDropMalformed, id, "size " + std::to_string(m.width) + "x" + std::to_string(m.height));
  // width <= 16384: width * 4 cannot overflow; stride is u32, so stride * height fits u64.
  if (m.stride < m.width * 4 || m.stride % 4 != 0)
    return refuse(kDropMalformed, id, "stride " + std::to_string(m.stride) + " for width " + std::to_string(m.width));
  if (m.buffer_count < kSurfaceMinBuffers || m.buffer_count > kSurfaceMaxBuffers)
    return refuse(kDropMalformed, id, "buffer count " + std::to_string(m.buffer_count));
  const std::uint64_t bytes = std::uint64_t{m.stride} * m.height;
  SurfaceGeometry g{id, m.window_id, m.width, m.height, m.stride, m.buffer_count, {}, resize};
  for (std::uint32_t b = 0; b < m.buffer_count; ++b) {
    const std::uint64_t off = m.buffer_offset[b];
    if (off > pool_size || bytes > pool_size - off)
      return refuse(kDropOutOfPool, id, "buffer " + std::to_string(b) + " [" + std::to_string(off) + ", +" +
                                            std::to_string(bytes) + ") outside the pool of " + std::to_string(pool_size));
    g.buffer_offset[b] = off;
  }
  return g;
}

std::expected<GuestSurfaceMessage, SurfaceFault> decode_present(std::span<const std::byte> payload) {
  SurfacePresentMsg m;
  if (payload.size() < sizeof m) return refuse(kDropMalformed, 0, "Present of " + std::to_string(payload.size()) + " bytes");
  std::memcpy(&m, payload.data(), sizeof m);
  const std::uint32_t id = m.surface_id;
  if (m.rect_count == 0 || m.rect_count > kSurfaceMaxPresentRects)
    return refuse(kDropBadPresent, id, "rectangle count " + std::to_string(m.rect_count));
  // The count was read once, above; the length must agree with that copy, not with a re-read.
  if (payload.size() != sizeof m + std::size_t{m.rect_count} * sizeof(SurfaceRectWire))
    return refuse(kDropMalformed, id, "Present of " + std::to_string(payload.size()) + " bytes for " +
                                          std::to_string(m.rect_count) + " rectangles");
  SurfacePresent p{id, m.buffer, m.sequence, m.damage_ns, std::vector<SurfaceRectWire>(m.rect_count)};
  std::memcpy(p.rects.data(), payload.data() + sizeof m, p.rects.size() * sizeof(SurfaceRectWire));
  return p;
}

template <typename T>
ringbus::Result<bool> send_fixed(ringbus::Ring& tx, std::uint16_t type, const T& m) {
  auto claim = tx.try_claim(sizeof(T));
  if (!claim) return std::unexpected(claim.error());
  if (!*claim) return false;
  std::memcpy(claim->data, &m, sizeof(T));
  tx.commit(sizeof(T), type);
  return true;
}

}  // namespace

std::expected<GuestSurfaceMessage, SurfaceFault> decode_guest_surface(std::uint16_t type,
                                                                      std::span<const std::byte> payload,
                                                                      std::uint64_t pool_size) {
  switch (type) {
    case kSurfaceCreate: return decode_geometry(payload, pool_size, false);
    case kSurfaceResize: return decode_geometry(payload, pool_size, true);
    case kSurfacePresent: return decode_present(payload);
    case kSurfaceDestroy: {
      SurfaceDestroyMsg m;
      if (!copy_exact(payload, m)) return refuse(kDropMalformed, 0, "Destroy of " + std::to_string(payload.size()) + " bytes");
      return SurfaceDestroy{m.surface_id};
    }
    default: return refuse(kDropMalformed, 0, "unknown surface message type " + std::to_string(type));
  }
}

std::expected<HostSurfaceMessage, std::string> decode_host_surface(std::uint16_t type,
                                                                   std::span<const std::byte> payload) {
  const auto bad = [&] { return std::unexpected("surface message " + std::to_string(type) + " of " +
                                                std::to_string(payload.size()) + " bytes"); };
  switch (type) {
    case kSurfaceHostReady: {
      SurfaceHostReadyMsg m;
      if (!copy_exact(payload, m)) return bad();
      return m;
    }
    case kSurfaceReleased: {
      SurfaceReleasedMsg m;
      if (!copy_exact(payload, m)) return bad();
      return m;
    }
    case kSurfaceDropped: {
      SurfaceDroppedMsg m;
      if (!copy_exact(payload, m)) return bad();
      return m;
    }
    case kSurfaceRefresh: {
      SurfaceRefreshMsg m;
      if (!copy_exact(payload, m)) return bad();
      return m;
    }
    default: return bad();
  }
}

ringbus::Result<bool> send_surface_geometry(ringbus::Ring& tx, const SurfaceGeometry& g) {
  SurfaceCreateMsg m{};
  m.surface_id = g.surface_id;
  m.window_id = g.window_id;
  m.width = g.width;
  m.height = g.height;
  m.stride = g.stride;
  m.format = kSurfaceFormatBgrx8888;
  m.buffer_count = g.buffer_count;
  for (std::uint32_t b = 0; b < kSurfaceMaxBuffers; ++b) m.buffer_offset[b] = g.buffer_offset[b];
  return send_fixed(tx, g.resize ? kSurfaceResize : kSurfaceCreate, m);
}

ringbus::Result<bool> send_surface_present(ringbus::Ring& tx, const SurfacePresentMsg& header,
                                           std::span<const SurfaceRectWire> rects) {
  const std::size_t bytes = sizeof header + rects.size() * sizeof(SurfaceRectWire);
  auto claim = tx.try_claim(static_cast<std::uint32_t>(bytes));
  if (!claim) return std::unexpected(claim.error());
  if (!*claim) return false;
  SurfacePresentMsg h = header;
  h.rect_count = static_cast<std::uint32_t>(rects.size());
  std::memcpy(claim->data, &h, sizeof h);
  std::memcpy(claim->data + sizeof h, rects.data(), rects.size() * sizeof(SurfaceRectWire));
  tx.commit(static_cast<std::uint32_t>(bytes), kSurfacePresent);
  return true;
}

ringbus::Result<bool> send_surface_destroy(ringbus::Ring& tx, std::uint32_t surface_id) {
  return send_fixed(tx, kSurfaceDestroy, SurfaceDestroyMsg{surface_id, 0});
}
ringbus::Result<bool> send_surface_host_ready(ringbus::Ring& tx, const SurfaceHostReadyMsg& m) {
  return send_fixed(tx, kSurfaceHostReady, m);
}
ringbus::Result<bool> send_surface_released(ringbus::Ring& tx, const SurfaceReleasedMsg& m) {
  return send_fixed(tx, kSurfaceReleased, m);
}
ringbus::Result<bool> send_surface_dropped(ringbus::Ring& tx, const SurfaceDroppedMsg& m) {
  return send_fixed(tx, kSurfaceDropped, m);
}

ringbus::Result<bool> send_surface_refresh(ringbus::Ring& tx, const SurfaceRefreshMsg& m) {
  return send_fixed(tx, kSurfaceRefresh, m);
}

}  // namespace vitrine::rdpmux
