#include "vitrine/viewer/surface_receiver.hpp"

#include <cstring>

#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/ringbus/doorbell.hpp"

namespace vitrine::viewer {
namespace {

constexpr std::uint32_t kMaxFaultLines = 32;     // per receiver: a hostile guest cannot flood the log
constexpr std::size_t kMaxDroppedIds = 4096;     // remembered to ignore their later records quietly
constexpr std::size_t kMaxPendingReplies = 4096; // past it the guest is not reading: stop accepting

std::uint64_t owned_key(std::uint32_t surface, std::uint32_t buffer) {
  return (std::uint64_t{surface} << 8) | buffer;
}

template <typename T>
std::vector<std::byte> bytes_of(const T& m) {
  std::vector<std::byte> out(sizeof m);
  std::memcpy(out.data(), &m, sizeof m);
  return out;
}

}  // namespace

std::expected<std::unique_ptr<SurfaceReceiver>, std::string> SurfaceReceiver::create(ringbus::Bus& bus, SurfaceSink& sink,
                                                                                     SurfaceReceiverOptions options) {
  if (bus.side() != ringbus::Side::kHost) return std::unexpected(std::string("the surface receiver is the host side of the bus"));
  if (!bus.has_surface_pool())
    return std::unexpected(std::string("the bus has no surface pool (set [bus] surface_pool in the VM config)"));
  if (options.max_surfaces == 0 || options.max_surfaces > rdpmux::kSurfaceMaxSurfaces)
    return std::unexpected("max_surfaces " + std::to_string(options.max_surfaces) + " outside 1.." +
                           std::to_string(rdpmux::kSurfaceMaxSurfaces));
  std::unique_ptr<SurfaceReceiver> r(new SurfaceReceiver(bus, sink, options));
  r->announce();
  r->flush_replies();
  return r;
}

SurfaceReceiver::SurfaceReceiver(ringbus::Bus& bus, SurfaceSink& sink, SurfaceReceiverOptions options)
    : bus_(bus),
      sink_(sink),
      options_(options),
      channel_(bus.surface_channel()),
      pool_size_(bus.surface_pool_size()),
      session_(base::monotonic_ns()) {}

SurfaceReceiver::~SurfaceReceiver() = default;

// A new session: whatever the guest had belongs to the previous host reader. Records the guest
// wrote before it saw HostReady may still come and are judged like any others: a Present of a
// surface this session never saw created is ignored (counted), not a fault.
void SurfaceReceiver::announce() {
  rdpmux::SurfaceHostReadyMsg m{rdpmux::kSurfaceProtocolVersion, options_.max_surfaces, ++session_};
  pending_.emplace_back(rdpmux::kSurfaceHostReady, bytes_of(m));
}

void SurfaceReceiver::flush_replies() {
  ringbus::Channel& ch = bus_.channel(channel_);
  std::size_t sent = 0;
  while (sent < pending_.size()) {
    const auto& [type, bytes] = pending_[sent];
    auto claim = ch.tx().try_claim(static_cast<std::uint32_t>(bytes.size()));
    if (!claim || !*claim) break;  // full (or faulted: the next poll() resets)
    std::memcpy(claim->data, bytes.data(), bytes.size());
    ch.tx().commit(static_cast<std::uint32_t>(bytes.size()), type);
    if (type == rdpmux::kSurfaceReleased) {
      rdpmux::SurfaceReleasedMsg m;
      std::memcpy(&m, bytes.data(), sizeof m);
      owned_.erase(owned_key(m.surface_id, m.buffer));
    }
    ++sent;
  }
  if (sent != 0) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(sent));
    ch.notify_sent();
  }
}

bool SurfaceReceiver::poll() {
  ringbus::Channel& ch = bus_.channel(channel_);
  if (ch.faulted()) ring_fault(ch.rx().faulted() ? ch.rx().last_fault() : ch.tx().last_fault());
  flush_replies();
  const auto deadline = base::Deadline::after(options_.max_time_per_poll);
  std::uint32_t handled = 0;
  while (handled < options_.max_records_per_poll) {
    // A guest that never reads its replies must not make the host queue without bound.
    if (pending_.size() >= kMaxPendingReplies) break;
    auto record = ch.rx().peek();
    if (!record) {
      ring_fault(record.error().message);
      return true;
    }
    if (!*record) break;
    handle(record->type, record->payload, base::monotonic_ns());
    ch.rx().release();
    ++handled;
    if ((handled & 15) == 0 && deadline.expired()) break;
  }
  if (handled != 0) ch.notify_released();
  flush_replies();
  auto more = ch.rx().readable();
  const bool left = more && *more && pending_.size() < kMaxPendingReplies;
  if (left) ++counters_.budget_yields;
  return left;
}

int SurfaceReceiver::wake_fd() const {
  const ringbus::Doorbell* bell = bus_.channel(channel_).wake_me();
  return bell != nullptr ? bell->fd() : -1;
}

void SurfaceReceiver::woke() {
  ringbus::Channel& ch = bus_.channel(channel_);
  if (auto* bell = dynamic_cast<ringbus::EventfdDoorbell*>(ch.wake_me())) bell->drain();
  ch.rx().disarm_readable();
  if (pass_on_) pass_on_(channel_);
}

bool SurfaceReceiver::prepare_sleep() {
  // arm_readable(): true = records are ready now (do not sleep); an error = a faulted ring,
  // which poll() resets: do not sleep on it either.
  auto ready = bus_.channel(channel_).rx().arm_readable();
  return ready && !*ready;
}

std::vector<SurfaceInfo> SurfaceReceiver::surfaces() const {
  std::vector<SurfaceInfo> out;
  for (const auto& [id, s] : surfaces_)
    out.push_back({id, s.geometry.window_id, s.geometry.width, s.geometry.height, s.geometry.buffer_count, s.presents, s.bytes});
  return out;
}

void SurfaceReceiver::handle(std::uint16_t type, std::span<const std::byte> payload, std::uint64_t read_ns) {
  auto message = rdpmux::decode_guest_surface(type, payload, pool_size_);
  if (!message) {
    const auto& f = message.error();
    if (f.surface_id != 0 && surfaces_.contains(f.surface_id)) drop(f.surface_id, f.reason, f.what);
    else fault_without_surface(f.what);
    return;
  }
  if (const auto* g = std::get_if<rdpmux::SurfaceGeometry>(&*message)) on_geometry(*g);
  else if (const auto* p = std::get_if<rdpmux::SurfacePresent>(&*message)) on_present(*p, read_ns);
  else on_destroy(std::get<rdpmux::SurfaceDestroy>(*message).surface_id);
}

void SurfaceReceiver::on_geometry(const rdpmux::SurfaceGeometry& g) {
  auto it = surfaces_.find(g.surface_id);
  if (!g.resize) {
    if (it != surfaces_.end()) return drop(g.surface_id, rdpmux::kDropMalformed, "Create of a surface that exists");
    if (dropped_.contains(g.surface_id)) {
      ++counters_.ignored;
      return;
    }
    if (by_window_.contains(g.window_id))
      return fault_without_surface("Create for window " + std::to_string(g.window_id) + ", which has a surface");
    if (surfaces_.size() >= options_.max_surfaces) {
      ++counters_.faults;
      dropped_.insert(g.surface_id);
      pending_.emplace_back(rdpmux::kSurfaceDropped, bytes_of(rdpmux::SurfaceDroppedMsg{g.surface_id, rdpmux::kDropLimit}));
      return;
    }
    if (!sink_.surface_attached(g.window_id, g.width, g.height)) {
      ++counters_.faults;
      dropped_.insert(g.surface_id);
      pending_.emplace_back(rdpmux::kSurfaceDropped, bytes_of(rdpmux::SurfaceDroppedMsg{g.surface_id, rdpmux::kDropNoWindow}));
      return;
    }
    surfaces_.emplace(g.surface_id, Surface{g});
    by_window_[g.window_id] = g.surface_id;
    ++counters_.creates;
    counters_.surfaces = surfaces_.size();
    return;
  }
  if (it == surfaces_.end()) {
    if (dropped_.contains(g.surface_id)) ++counters_.ignored;
    else fault_without_surface("Resize of unknown surface " + std::to_string(g.surface_id));
    return;
  }
  if (g.window_id != it->second.geometry.window_id)
    return drop(g.surface_id, rdpmux::kDropMalformed, "Resize moves the surface to another window");
  for (std::uint32_t b = 0; b < it->second.geometry.buffer_count; ++b)
    if (owned_.contains(owned_key(g.surface_id, b)))
      return drop(g.surface_id, rdpmux::kDropBadPresent, "Resize while the host owns a buffer");
  if (!sink_.surface_attached(g.window_id, g.width, g.height))
    return drop(g.surface_id, rdpmux::kDropNoWindow, "the display refused the new size");
  const std::uint64_t last = it->second.last_sequence;
  it->second.geometry = g;
  it->second.last_sequence = last;  // sequences go on across a resize
  ++counters_.resizes;
}

void SurfaceReceiver::on_present(const rdpmux::SurfacePresent& p, std::uint64_t read_ns) {
  auto it = surfaces_.find(p.surface_id);
  if (it == surfaces_.end()) {
    ++counters_.ignored;  // dropped, or created before this session's HostReady reached the guest
    return;
  }
  Surface& s = it->second;
  const auto& g = s.geometry;
  if (p.buffer >= g.buffer_count) return drop(p.surface_id, rdpmux::kDropBadPresent, "buffer " + std::to_string(p.buffer));
  if (owned_.contains(owned_key(p.surface_id, p.buffer)))
    return drop(p.surface_id, rdpmux::kDropBadPresent, "Present of a buffer the host still owns");
  if (p.sequence <= s.last_sequence)
    return drop(p.surface_id, rdpmux::kDropBadPresent,
                "sequence " + std::to_string(p.sequence) + " after " + std::to_string(s.last_sequence));
  rects_.clear();
  std::uint64_t bytes = 0;
  for (const auto& r : p.rects) {
    // 64-bit sums: x + width of two int32 near the limits must not wrap past the check.
    if (r.x < 0 || r.y < 0 || r.width <= 0 || r.height <= 0 || std::int64_t{r.x} + r.width > std::int64_t{g.width} ||
        std::int64_t{r.y} + r.height > std::int64_t{g.height})
      return drop(p.surface_id, rdpmux::kDropBadPresent,
                  "rectangle " + std::to_string(r.x) + "," + std::to_string(r.y) + " " + std::to_string(r.width) + "x" +
                      std::to_string(r.height) + " outside " + std::to_string(g.width) + "x" + std::to_string(g.height));
    rects_.push_back({r.x, r.y, r.width, r.height});
    bytes += std::uint64_t(r.width) * std::uint64_t(r.height) * 4;
  }
  // Checked at Create against the pool; asked again so that the pointer comes from the bus's own
  // bounds, not from arithmetic on guest numbers here.
  auto pixels = bus_.surface_bytes(g.buffer_offset[p.buffer], std::uint64_t{g.stride} * g.height);
  if (!pixels) return drop(p.surface_id, rdpmux::kDropOutOfPool, pixels.error().message);
  s.last_sequence = p.sequence;
  SurfaceFrame frame{p.surface_id, pixels->data(), g.width, g.height, g.stride, rects_, p.sequence, p.damage_ns, read_ns};
  sink_.surface_presented(g.window_id, frame);
  ++s.presents;
  s.bytes += bytes;
  ++counters_.presents;
  counters_.rects += rects_.size();
  counters_.bytes_presented += bytes;
  owned_.insert(owned_key(p.surface_id, p.buffer));
  pending_.emplace_back(rdpmux::kSurfaceReleased, bytes_of(rdpmux::SurfaceReleasedMsg{p.surface_id, p.buffer, p.sequence}));
  if (pending_.size() > 1) ++counters_.releases_deferred;
}

void SurfaceReceiver::request_refresh(std::uint32_t window) {
  auto it = by_window_.find(window);
  if (it == by_window_.end()) return;
  pending_.emplace_back(rdpmux::kSurfaceRefresh, bytes_of(rdpmux::SurfaceRefreshMsg{it->second, 0}));
  flush_replies();
}

void SurfaceReceiver::on_destroy(std::uint32_t surface_id) {
  auto it = surfaces_.find(surface_id);
  if (it == surfaces_.end()) {
    ++counters_.ignored;
    return;
  }
  const std::uint32_t window = it->second.geometry.window_id;
  by_window_.erase(window);
  surfaces_.erase(it);
  counters_.surfaces = surfaces_.size();
  ++counters_.destroys;
  sink_.surface_detached(window);
}

void SurfaceReceiver::drop(std::uint32_t surface_id, std::uint32_t reason, const std::string& what) {
  auto it = surfaces_.find(surface_id);
  if (it == surfaces_.end()) return fault_without_surface(what);
  ++counters_.faults;
  const std::uint32_t window = it->second.geometry.window_id;
  if (logged_ < kMaxFaultLines) {
    ++logged_;
    base::log_warn("surface {} of window {} dropped: {}", surface_id, window, what);
  }
  by_window_.erase(window);
  surfaces_.erase(it);
  counters_.surfaces = surfaces_.size();
  ++counters_.dropped;
  if (dropped_.size() >= kMaxDroppedIds) dropped_.clear();
  dropped_.insert(surface_id);
  pending_.emplace_back(rdpmux::kSurfaceDropped, bytes_of(rdpmux::SurfaceDroppedMsg{surface_id, reason}));
  sink_.surface_detached(window);
}

void SurfaceReceiver::fault_without_surface(const std::string& what) {
  ++counters_.faults;
  if (logged_ < kMaxFaultLines) {
    ++logged_;
    base::log_warn("surface channel: record refused: {}", what);
  }
}

void SurfaceReceiver::ring_fault(const std::string& what) {
  ++counters_.ring_faults;
  if (logged_ < kMaxFaultLines) {
    ++logged_;
    base::log_warn("surface channel reset after a ring fault: {}", what);
  }
  for (const auto& [window, id] : by_window_) sink_.surface_detached(window);
  surfaces_.clear();
  by_window_.clear();
  owned_.clear();
  pending_.clear();
  counters_.surfaces = 0;
  bus_.channel(channel_).reset();
  announce();
}

}  // namespace vitrine::viewer
