#include "surface_publisher.hpp"

#include <X11/Xlib.h>
#include <X11/extensions/Xcomposite.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/rdpmux/surface_codec.hpp"

namespace vitrine::appserver::surface {
namespace {

constexpr std::size_t kMaxRects = rdpmux::kSurfaceMaxPresentRects;
constexpr std::size_t kMaxRepliesPerTurn = 1024;

// The surface covers the window's frame, border included: the RemoteApp window is the frame, and
// GetImage of a window reaches its outside edges (window coordinates -border ..).
Rect inside(const WindowInfo& info) { return {0, 0, info.frame.width, info.frame.height}; }

// Reads the X server refused in a row before the window goes back to RDP pixels.
constexpr std::uint32_t kMaxFailedReads = 8;

}  // namespace

std::expected<std::unique_ptr<SurfacePublisher>, std::string> SurfacePublisher::create(
    std::unique_ptr<relay::AttachedBus> bus, int bus_fd, x11::X11Capture& capture) {
  if (!bus->bus.has_surface_pool()) return std::unexpected(std::string("the bus has no surface pool: the host offers no surfaces"));
  std::unique_ptr<SurfacePublisher> p(new SurfacePublisher(std::move(bus), capture));
  p->reader_ = BusImageReader::create(capture.display().get(), bus_fd, p->bus_->bus.base(), capture.grabber());
  return p;
}

SurfacePublisher::SurfacePublisher(std::unique_ptr<relay::AttachedBus> bus, x11::X11Capture& capture)
    : bus_(std::move(bus)),
      capture_(capture),
      pool_(bus_->bus.surface_pool_size()),
      channel_(bus_->bus.surface_channel()) {}

SurfacePublisher::~SurfacePublisher() = default;

ringbus::Ring& SurfacePublisher::tx() { return bus_->bus.channel(channel_).tx(); }

bool SurfacePublisher::covers(Window w) const {
  auto it = surfaces_.find(w);
  return active() && it != surfaces_.end() && it->second.created;
}

void SurfacePublisher::forget_all() {
  surfaces_.clear();
  refused_.clear();
  retired_owned_.clear();
  pool_ = ringbus::SurfacePool(bus_->bus.surface_pool_size());
  stats_.surfaces = 0;
}

void SurfacePublisher::read_host() {
  ringbus::Ring& rx = bus_->bus.channel(channel_).rx();
  for (std::size_t n = 0; n < kMaxRepliesPerTurn; ++n) {
    auto rec = rx.peek();
    if (!rec) {
      base::log_warn("surfaces: the host->guest ring broke ({}); waiting for the host to reset it",
                     rec.error().message);
      session_ = 0;
      forget_all();
      return;
    }
    if (!*rec) break;
    auto m = rdpmux::decode_host_surface(rec->type, rec->payload);
    rx.release();
    if (!m) {
      base::log_warn("surfaces: {}", m.error());
      continue;
    }
    if (const auto* ready = std::get_if<rdpmux::SurfaceHostReadyMsg>(&*m)) {
      if (ready->version != rdpmux::kSurfaceProtocolVersion) {
        base::log_warn("surfaces: the host speaks surface protocol {}, this appserver {}: RDP pixels",
                       ready->version, rdpmux::kSurfaceProtocolVersion);
        session_ = 0;
        continue;
      }
      session_ = ready->session;
      ++stats_.host_sessions;
      forget_all();
      base::log_info("surfaces: the host reads window surfaces (session {}, zero-copy {})", session_,
                     reader_->zero_copy());
    } else if (const auto* rel = std::get_if<rdpmux::SurfaceReleasedMsg>(&*m)) {
      if (auto r = retired_owned_.find({rel->surface_id, rel->buffer}); r != retired_owned_.end()) {
        pool_.free(r->second);
        retired_owned_.erase(r);
        continue;
      }
      for (auto& [w, s] : surfaces_)
        if (s.id == rel->surface_id && rel->buffer < 2) s.buffers[rel->buffer].host_owns = false;
    } else if (const auto* drop = std::get_if<rdpmux::SurfaceDroppedMsg>(&*m)) {
      for (auto it = surfaces_.begin(); it != surfaces_.end(); ++it) {
        if (it->second.id != drop->surface_id) continue;
        base::log_warn(
            "surfaces: the host dropped the surface of window {:#x} (reason {}): RDP pixels for it",
            it->first, drop->reason);
        refused_.insert(it->first);
        ++stats_.dropped;
        // The host reads none of its buffers any more.
        for (auto& b : it->second.buffers) pool_.free(b.offset);
        capture_.damage().add(capture_.windows().windows().contains(it->first)
                                  ? capture_.windows().windows().at(it->first).frame
                                  : Rect{});
        surfaces_.erase(it);
        break;
      }
    } else if (const auto* refresh = std::get_if<rdpmux::SurfaceRefreshMsg>(&*m)) {
      for (auto& [w, s] : surfaces_)
        if (s.id == refresh->surface_id) s.full = true;
    }
  }
  bus_->bus.channel(channel_).notify_released();
  stats_.surfaces = surfaces_.size();
}

void SurfacePublisher::release_surface(Surface& s) {
  for (std::uint32_t b = 0; b < 2; ++b) {
    if (s.buffers[b].host_owns) retired_owned_[{s.id, b}] = s.buffers[b].offset;
    else pool_.free(s.buffers[b].offset);
  }
}

// New buffers for `s` at this size. False: the pool is full (the window stays on RDP pixels).
bool SurfacePublisher::place(Surface& s, std::int32_t width, std::int32_t height) {
  const std::uint64_t bytes = std::uint64_t(width) * std::uint64_t(height) * 4;
  auto a = pool_.allocate(bytes);
  auto b = a ? pool_.allocate(bytes) : std::nullopt;
  if (!a || !b) {
    if (a) pool_.free(*a);
    return false;
  }
  s.width = width;
  s.height = height;
  s.buffers[0] = {*a, false};
  s.buffers[1] = {*b, false};
  return true;
}

namespace {
std::atomic<bool> g_stats_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");
}  // namespace

void SurfacePublisher::request_stats_log() { g_stats_requested.store(true, std::memory_order_relaxed); }

void SurfacePublisher::log_stats() const {
  // bytes_read: whole rows the X server wrote into the pool (ShmGetImage; one copy, in the X
  // server); bytes_copied: user-space copies on top (the fallback path only).
  base::log_info(
      "surfaces: {} surfaces ({} created), {} presents, {} bytes presented, {} bytes written into the pool "
      "by "
      "the X server, {} bytes copied in user space, zero-copy {}, {} waits for a buffer, {} dropped, {} left "
      "on "
      "RDP for want of pool space",
      stats_.surfaces, stats_.creates, stats_.presents, stats_.bytes_presented, stats_.bytes_read,
      stats_.bytes_copied, reader_->zero_copy(), stats_.waits_for_buffer, stats_.dropped, stats_.pool_full);
}

void SurfacePublisher::sync() {
  if (g_stats_requested.exchange(false, std::memory_order_relaxed)) log_stats();
  waiting_ = false;
  read_host();
  if (!active()) return;
  const auto& windows = capture_.windows().windows();
  // Surfaces of windows that are gone or hidden.
  for (auto it = surfaces_.begin(); it != surfaces_.end();) {
    auto w = windows.find(it->first);
    if (w != windows.end() && w->second.shown() && !w->second.minimized) {
      ++it;
      continue;
    }
    if (it->second.created) {
      auto sent = rdpmux::send_surface_destroy(tx(), it->second.id);
      if (!sent || !*sent) {  // full: try again next turn
        waiting_ = true;
        ++it;
        continue;
      }
      dirty_ = true;
    }
    release_surface(it->second);
    it = surfaces_.erase(it);
  }
  for (const auto& [id, info] : windows) {
    if (!info.shown() || info.minimized || refused_.contains(id)) continue;
    const Rect r = inside(info);
    if (r.width <= 0 || r.height <= 0 || std::uint32_t(r.width) > rdpmux::kSurfaceMaxSide ||
        std::uint32_t(r.height) > rdpmux::kSurfaceMaxSide)
      continue;
    Surface& s = surfaces_[id];
    s.border = info.border;
    if (s.id == 0) {
      s.id = next_id_++;
      s.window = id;
    }
    if (s.created && !s.resize_unsent && (s.width != r.width || s.height != r.height)) {
      // New buffers only once the host gave both old ones back: it may still read them.
      if (s.buffers[0].host_owns || s.buffers[1].host_owns) {
        waiting_ = true;
        continue;
      }
      for (auto& b : s.buffers) pool_.free(b.offset);
      if (!place(s, r.width, r.height)) {
        ++stats_.pool_full;
        (void)rdpmux::send_surface_destroy(tx(), s.id);  // full ring: the host drops it on its own later
        dirty_ = true;
        refused_.insert(id);
        surfaces_.erase(id);
        capture_.damage().add(info.frame);
        continue;
      }
      s.resize_unsent = true;
    }
    if (s.resize_unsent) {
      rdpmux::SurfaceGeometry g{s.id, static_cast<std::uint32_t>(id), std::uint32_t(s.width), std::uint32_t(s.height),
                                std::uint32_t(s.width) * 4, 2, {s.buffers[0].offset, s.buffers[1].offset}, true};
      if (auto sent = rdpmux::send_surface_geometry(tx(), g); !sent || !*sent) {
        waiting_ = true;
        continue;
      }
      s.resize_unsent = false;
      s.full = true;
      dirty_ = true;
    }
    if (!s.created) {
      if (!place(s, r.width, r.height)) {
        ++stats_.pool_full;
        refused_.insert(id);
        surfaces_.erase(id);
        continue;
      }
      rdpmux::SurfaceGeometry g{s.id, static_cast<std::uint32_t>(id), std::uint32_t(r.width), std::uint32_t(r.height),
                                std::uint32_t(r.width) * 4, 2, {s.buffers[0].offset, s.buffers[1].offset}, false};
      auto sent = rdpmux::send_surface_geometry(tx(), g);
      if (!sent || !*sent) {
        for (auto& b : s.buffers) pool_.free(b.offset);
        s.buffers[0] = s.buffers[1] = {};
        waiting_ = true;
        continue;
      }
      s.created = true;
      s.full = true;
      dirty_ = true;
      ++stats_.creates;
    }
    if (!present(s, info.frame, capture_.window_damage(id))) waiting_ = true;
  }
  stats_.surfaces = surfaces_.size();
  if (dirty_) {
    bus_->bus.channel(channel_).notify_sent();
    dirty_ = false;
  }
}

void SurfacePublisher::refuse(Surface& s, const Rect& frame) {
  const Window id = s.window;
  if (s.created) (void)rdpmux::send_surface_destroy(tx(), s.id);  // full ring: the host drops it later
  dirty_ = true;
  refused_.insert(id);
  capture_.damage().add(frame);  // its pixels go over RDP from now on
  release_surface(s);
  surfaces_.erase(id);
}

std::expected<void, std::string> SurfacePublisher::read_band(const Surface& s, Pixmap pixmap, const Buffer& buffer,
                                                             std::int32_t left, std::int32_t width,
                                                             std::int32_t top, std::int32_t bottom) {
  const std::uint64_t row = std::uint64_t(s.width) * 4;
  const std::uint64_t first = bus_->bus.surface_pool_offset() + buffer.offset + std::uint64_t(top) * row;
  // The pixmap's origin is the frame's corner; the window's is inside its border.
  const Drawable from = pixmap != 0 ? pixmap : s.window;
  const std::int32_t shift = pixmap != 0 ? 0 : s.border;
  auto read = reader_->read_rows(from, left - shift, width, top - shift, bottom - top, first);
  if (!read) return read;
  stats_.bytes_read += std::uint64_t(bottom - top) * std::uint64_t(width) * 4;
  if (left == 0 && width == s.width) return {};  // whole rows: already in place
  // The X server packed the rows at width * 4 bytes; move each to its columns, last row first
  // (every row's place lies at or after where it was written, so nothing unread is overwritten).
  auto bytes = bus_->bus.surface_bytes(buffer.offset, row * std::uint64_t(s.height));
  if (!bytes) return std::unexpected(std::string("surface buffer outside the pool"));
  std::byte* base = bytes->data() + std::uint64_t(top) * row;
  const std::size_t packed = std::size_t(width) * 4;
  for (std::int32_t i = bottom - top - 1; i >= 0; --i)
    std::memmove(base + std::size_t(i) * row + std::size_t(left) * 4, base + std::size_t(i) * packed, packed);
  spread_bytes_ += std::uint64_t(bottom - top) * packed;
  return {};
}

// Presents `s`'s damage from a free buffer. False when it had to wait (no buffer, full ring).
bool SurfacePublisher::present(Surface& s, const Rect& frame, DamageRegion* damage) {
  if (!s.full && (damage == nullptr || damage->empty())) return true;
  Buffer* buffer = !s.buffers[0].host_owns ? &s.buffers[0] : !s.buffers[1].host_owns ? &s.buffers[1] : nullptr;
  if (buffer == nullptr) {
    ++stats_.waits_for_buffer;
    return false;
  }
  // The composite pixmap holds the whole frame, also where other windows cover it or the
  // screen ends. It is named for this present and freed after it (two requests, no round
  // trip): the server replaces it whenever the window is resized, so a kept name could go
  // stale. Without one, GetImage of the window refuses any part off the screen (BadMatch) and X
  // keeps no pixels there: only the on-screen part is read, and the host's texture keeps what
  // it had elsewhere. In frame coordinates:
  Display* dpy = capture_.display().get();
  const Pixmap pixmap = s.pixmap_failed ? 0 : XCompositeNameWindowPixmap(dpy, s.window);
  struct FreePixmap {
    Display* dpy;
    Pixmap pixmap;
    ~FreePixmap() {
      if (pixmap != 0) XFreePixmap(dpy, pixmap);
    }
  } free_after{dpy, pixmap};
  Rect readable{0, 0, s.width, s.height};
  if (pixmap == 0) {
    const Rect visible = Rect{frame.x, frame.y, s.width, s.height}.intersect(capture_.desktop());
    readable = Rect{visible.x - frame.x, visible.y - frame.y, visible.width, visible.height};
  }
  // Window damage is in window coordinates (origin inside the border), the surface in frame
  // coordinates (origin at the border's outer corner).
  std::vector<Rect> rects;
  if (s.full) {
    rects.push_back(Rect{0, 0, s.width, s.height});
  } else {
    rects = damage->rects(Rect{-s.border, -s.border, s.width, s.height}, kMaxRects);
    for (Rect& r : rects) {
      r.x += s.border;
      r.y += s.border;
    }
  }
  for (Rect& r : rects) r = r.intersect(readable);
  std::erase_if(rects, [](const Rect& r) { return r.empty(); });
  if (rects.empty()) {  // nothing on screen changed (or nothing of it is on screen)
    if (damage) damage->clear();
    s.full = false;
    return true;
  }
  // The X server writes whole rows of the visible columns: one ShmGetImage per band of rows.
  std::vector<std::pair<std::int32_t, std::int32_t>> bands;  // [top, bottom)
  for (const Rect& r : rects) bands.emplace_back(r.y, r.y + r.height);
  std::sort(bands.begin(), bands.end());
  std::vector<std::pair<std::int32_t, std::int32_t>> merged;
  for (const auto& b : bands) {
    if (!merged.empty() && b.first <= merged.back().second) merged.back().second = std::max(merged.back().second, b.second);
    else merged.push_back(b);
  }
  for (const auto& [top, bottom] : merged) {
    if (auto read = read_band(s, pixmap, *buffer, readable.x, readable.width, top, bottom); !read) {
      // Usually the window went away under us (the next turn drops it). A window that stays
      // and keeps refusing goes back to RDP rather than showing nothing.
      base::log_debug("surfaces: {}", read.error());
      if (pixmap != 0) {  // no composite pixmap after all: the window, next turn
        base::log_info("surfaces: window {:#x} has no composite pixmap to read ({}); reading the window",
                       s.window, read.error());
        s.pixmap_failed = true;
        return true;  // the damage stays for the next turn
      }
      if (damage) damage->clear();
      if (++s.failed_reads >= kMaxFailedReads) {
        base::log_warn("surfaces: the X server refused {} reads of window {:#x}: RDP pixels for it",
                       s.failed_reads, s.window);
        refuse(s, frame);
      }
      return true;
    }
  }
  s.failed_reads = 0;
  std::vector<rdpmux::SurfaceRectWire> wire;
  std::uint64_t bytes = 0;
  for (const Rect& r : rects) {
    wire.push_back({r.x, r.y, r.width, r.height});
    bytes += std::uint64_t(r.area()) * 4;
  }
  const std::uint32_t index = buffer == &s.buffers[0] ? 0 : 1;
  rdpmux::SurfacePresentMsg m{s.id, index, s.sequence + 1, base::monotonic_ns(), 0, 0};
  auto sent = rdpmux::send_surface_present(tx(), m, wire);
  if (!sent || !*sent) return false;  // ring full: the damage stays for the next turn
  ++s.sequence;
  buffer->host_owns = true;
  s.full = false;
  if (damage) damage->clear();
  dirty_ = true;
  ++stats_.presents;
  stats_.bytes_presented += bytes;
  stats_.bytes_copied = reader_->copies() + spread_bytes_;
  return true;
}

}  // namespace vitrine::appserver::surface
