// The attacks (attacks.hpp). Guest side only, except window_storm, which plays FreeRDP's session
// thread (the WindowModel runs there in the product).
#include "attacks.hpp"

#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/host/window_model.hpp"
#include "vitrine/rdpmux/surface_codec.hpp"
#include "vitrine/ringbus/layout.hpp"

namespace vitrine::bench::hostile {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::byte>;

// The ring is full: ring the host (if it sleeps) and nap, as a vCPU that keeps trying.
void full(ringbus::Bus& guest, std::uint32_t channel, GuestCounters& c) {
  guest.channel(channel).notify_sent();
  c.full.fetch_add(1, std::memory_order_relaxed);
  std::this_thread::sleep_for(50us);
}

// Sends until it fits or `stop`.
template <typename TrySend>
void send(ringbus::Bus& guest, std::uint32_t channel, const std::atomic<bool>& stop, GuestCounters& c, TrySend&& try_send) {
  while (!stop.load(std::memory_order_relaxed)) {
    if (try_send()) {
      c.records.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    full(guest, channel, c);
  }
}

template <typename T>
Bytes bytes_of(const T& v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

void put_u16(Bytes& b, std::size_t at, std::uint16_t v) { std::memcpy(b.data() + at, &v, 2); }
void put_u32(Bytes& b, std::size_t at, std::uint32_t v) { std::memcpy(b.data() + at, &v, 4); }

// One CatalogFragment record written straight into the claimed ring span (no staging copy).
bool try_fragment(ringbus::Bus& guest, std::uint32_t generation, std::uint32_t offset, std::uint32_t total,
                  std::span<const std::byte> data) {
  rdpmux::CatalogFragmentHeader h{rdpmux::kCatalogFragmentMagic, generation, offset, total,
                                  static_cast<std::uint32_t>(data.size()), 0};
  ringbus::Ring& tx = guest.channel(rdpmux::kControlChannel).tx();
  auto claim = tx.try_claim(static_cast<std::uint32_t>(sizeof h + data.size()));
  if (!claim || !*claim) return false;
  std::memcpy(claim->data, &h, sizeof h);
  if (!data.empty()) std::memcpy(claim->data + sizeof h, data.data(), data.size());
  tx.commit(static_cast<std::uint32_t>(sizeof h + data.size()), rdpmux::kMsgCatalogFragment);
  return true;
}

constexpr std::size_t kFragmentData = rdpmux::kMaxCatalogFragmentBytes - sizeof(rdpmux::CatalogFragmentHeader);

// Sends `blob` as one catalogue of `generation` (the blob's own generation field patched too).
void send_catalog(Host& host, Bytes& blob, std::uint32_t generation, const std::atomic<bool>& stop, GuestCounters& c) {
  ringbus::Bus& guest = host.guest_bus();
  put_u32(blob, 8, generation);
  const auto total = static_cast<std::uint32_t>(blob.size());
  for (std::uint32_t off = 0; off < total && !stop.load(std::memory_order_relaxed);) {
    const auto len = static_cast<std::uint32_t>(std::min<std::size_t>(kFragmentData, total - off));
    const std::span<const std::byte> data(blob.data() + off, len);
    send(guest, rdpmux::kControlChannel, stop, c, [&] { return try_fragment(guest, generation, off, total, data); });
    off += len;
  }
  guest.channel(rdpmux::kControlChannel).notify_sent();
  c.rounds.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void ping_flood(Host& host, const std::atomic<bool>& stop, GuestCounters& c) {
  ringbus::Bus& guest = host.guest_bus();
  std::uint64_t nonce = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    // Never reads host->guest control: every Pong the host tries finds the ring full soon.
    send(guest, rdpmux::kControlChannel, stop, c, [&] { return guest_try_send(guest, rdpmux::PingMsg{nonce, 0}); });
    ++nonce;
    if ((nonce & 63) == 0) guest.channel(rdpmux::kControlChannel).notify_sent();
  }
}

void control_garbage(Host& host, const std::atomic<bool>& stop, GuestCounters& c) {
  ringbus::Bus& guest = host.guest_bus();
  struct Record {
    std::uint16_t type;
    Bytes payload;
  };
  auto encoded = [](const rdpmux::ControlMessage& m) {
    const auto e = rdpmux::encode_control(m);
    return Record{e.type, Bytes(e.payload().begin(), e.payload().end())};
  };
  std::vector<Record> garbage;
  garbage.push_back({77, Bytes(16, std::byte{0xee})});                               // unknown type
  garbage.push_back({rdpmux::kMsgOpened, Bytes(3)});                                 // short
  garbage.push_back({rdpmux::kMsgPing, Bytes{}});                                    // empty
  garbage.push_back(encoded(rdpmux::OpenedMsg{12345, kUnopenedChannel, 0, 0}));      // no such request
  garbage.push_back(encoded(rdpmux::OpenedMsg{1, 0, 0, 0}));                         // the control channel
  garbage.push_back(encoded(rdpmux::make_closed(kUnopenedChannel, 0, 0, 0, "never opened")));
  garbage.push_back(encoded(rdpmux::make_closed(99, 0, 0, 0, "no such channel")));
  garbage.push_back(encoded(rdpmux::make_hello_reply(rdpmux::kProtocolVersion, 0, 0, 1)));  // again
  garbage.push_back(encoded(rdpmux::ClockReplyMsg{7, 1, std::uint64_t{1} << 63, 0}));        // past 2^62
  garbage.push_back({rdpmux::kMsgCatalogFragment, Bytes(24)});                       // bad magic
  garbage.push_back(encoded(rdpmux::PongMsg{999, 0}));                               // never asked
  garbage.push_back(encoded(rdpmux::make_error_reply(rdpmux::kMsgPing, 1, "the guest complains")));
  garbage.push_back({rdpmux::kMsgOpen, Bytes(sizeof(rdpmux::OpenMsg))});             // wrong direction
  garbage.push_back({rdpmux::kMsgStatsReply, Bytes(5)});                             // unsolicited, short
  std::size_t i = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    const Record& r = garbage[i % garbage.size()];
    send(guest, rdpmux::kControlChannel, stop, c,
         [&] { return guest_try_send(guest, rdpmux::kControlChannel, r.type, r.payload); });
    if ((++i & 63) == 0) {
      guest.channel(rdpmux::kControlChannel).notify_sent();
      guest_drain(guest, rdpmux::kControlChannel);  // reads the ErrorReplies: the host keeps sending them
    }
  }
}

void catalog_minimal_32mib(Host& host, const std::atomic<bool>& stop, GuestCounters& c) {
  // CatalogHeader (32 bytes) + entries of a 24-byte header and a 1-byte id (catalog_wire.hpp).
  constexpr std::size_t kEntry = catalog::kEntryHeaderSize + 1;
  const std::size_t count = (catalog::kMaxCatalogBlobBytes - catalog::kCatalogHeaderSize) / kEntry;
  Bytes blob(catalog::kCatalogHeaderSize + count * kEntry);
  put_u32(blob, 0, catalog::kCatalogMagic);
  put_u16(blob, 4, catalog::kCatalogVersion);
  put_u32(blob, 12, static_cast<std::uint32_t>(count));
  put_u32(blob, 16, static_cast<std::uint32_t>(count * kEntry));
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t at = catalog::kCatalogHeaderSize + i * kEntry;
    put_u16(blob, at, 1);  // id_len
    blob[at + catalog::kEntryHeaderSize] = std::byte{'a'};
  }
  for (std::uint32_t generation = 1; !stop.load(std::memory_order_relaxed); ++generation)
    send_catalog(host, blob, generation, stop, c);
}

void catalog_restarts(Host& host, const std::atomic<bool>& stop, GuestCounters& c) {
  ringbus::Bus& guest = host.guest_bus();
  const Bytes data(kFragmentData, std::byte{0x5a});
  for (std::uint32_t generation = 1; !stop.load(std::memory_order_relaxed); ++generation) {
    send(guest, rdpmux::kControlChannel, stop, c,
         [&] { return try_fragment(guest, generation, 0, catalog::kMaxCatalogBlobBytes, data); });
    if ((generation & 15) == 0) guest.channel(rdpmux::kControlChannel).notify_sent();
  }
}

void catalog_fat(Host& host, const std::atomic<bool>& stop, GuestCounters& c) {
  catalog::Catalog cat;
  cat.generation = 1;
  for (std::size_t i = 0; i < catalog::kMaxApps; ++i) {
    catalog::AppEntry a;
    a.id = "app-" + std::to_string(i);
    a.id.resize(200, 'i');
    a.name.assign(1000, 'N');
    a.comment.assign(4000, 'C');
    a.working_dir = "/" + std::string(999, 'w');
    a.exec = {"/usr/bin/app", std::string(1800, 'x')};
    cat.apps.push_back(std::move(a));
  }
  auto blob = catalog::encode_catalog(cat);
  if (!blob) {
    c.errors.fetch_add(1);
    return;
  }
  cat.apps.clear();
  for (std::uint32_t generation = 1; !stop.load(std::memory_order_relaxed); ++generation)
    send_catalog(host, *blob, generation, stop, c);
}

void stamp_flood(Host& host, const std::atomic<bool>& stop, GuestCounters& c) {
  ringbus::Bus& guest = host.guest_bus();
  const auto stamp = rdpmux::encode_stamp(1, 2);
  const std::byte one[1] = {std::byte{'x'}};
  for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    const bool data = (i & 4095) == 4095;
    const bool empty = (i & 1) == 1;
    send(guest, kConnectionChannel, stop, c, [&] {
      if (data) return guest_try_send(guest, kConnectionChannel, rdpmux::kRecordData, one);
      if (empty) return guest_try_send(guest, kConnectionChannel, rdpmux::kRecordData, {});
      return guest_try_send(guest, kConnectionChannel, rdpmux::kRecordStamp, stamp);
    });
    if ((i & 255) == 255) guest.channel(kConnectionChannel).notify_sent();
  }
}

void surface_abuse(Host& host, const std::atomic<bool>& stop, GuestCounters& c) {
  ringbus::Bus& guest = host.guest_bus();
  const std::uint32_t ch = guest.surface_channel();
  ringbus::Ring& tx = guest.channel(ch).tx();
  constexpr std::uint32_t kSide = kSessionWindowSide;
  constexpr std::uint64_t kBuffer = std::uint64_t{kSide} * kSide * 4;
  const auto max64 = std::numeric_limits<std::uint64_t>::max();
  std::vector<rdpmux::SurfaceRectWire> tiles;
  for (std::int32_t y = 0; y < 8; ++y)
    for (std::int32_t x = 0; x < 8; ++x) tiles.push_back({x * 32, y * 32, 16, 16});
  const rdpmux::SurfaceRectWire whole{0, 0, kSide, kSide};
  auto geometry = [&](const rdpmux::SurfaceGeometry& g) {
    send(guest, ch, stop, c, [&] { auto r = rdpmux::send_surface_geometry(tx, g); return r && *r; });
  };
  auto present = [&](std::uint32_t id, std::uint32_t buffer, std::uint64_t seq, std::span<const rdpmux::SurfaceRectWire> rects) {
    const rdpmux::SurfacePresentMsg m{id, buffer, seq, 0, static_cast<std::uint32_t>(rects.size()), 0};
    send(guest, ch, stop, c, [&] { auto r = rdpmux::send_surface_present(tx, m, rects); return r && *r; });
  };
  auto destroy = [&](std::uint32_t id) {
    send(guest, ch, stop, c, [&] { auto r = rdpmux::send_surface_destroy(tx, id); return r && *r; });
  };
  for (std::uint32_t round = 0; !stop.load(std::memory_order_relaxed); ++round) {
    const std::uint32_t id = 1000 + round * 8;
    const std::uint32_t window = 1 + round % kSessionWindows;
    // A valid surface on a real window: two uploads, the second of 64 rectangles.
    geometry({id, window, kSide, kSide, kSide * 4, 2, {0, kBuffer}, false});
    present(id, 0, 1, std::span(&whole, 1));
    present(id, 1, 2, tiles);
    present(id, 7, 3, std::span(&whole, 1));  // forged buffer index: the surface is dropped
    geometry({id + 1, window, 16384, 16384, 65536, 2, {0, std::uint64_t{1} << 30}, false});  // 1 GiB buffers
    geometry({id + 2, window, 64, 64, 256, 2, {max64 - 100, 0}, false});                  // offset wraps
    geometry({id + 3, window, 16384, 16384, 65536, 3, {0, 0, 0}, true});                  // huge Resize, unknown id
    send(guest, ch, stop, c, [&] {  // truncated Present: the header claims 64 rectangles, none follow
      const rdpmux::SurfacePresentMsg m{id + 4, 0, 1, 0, 64, 0};
      const auto b = bytes_of(m);
      return guest_try_send(guest, ch, rdpmux::kSurfacePresent, b);
    });
    geometry({id + 5, 5000 + round, 64, 64, 256, 2, {2 * kBuffer, 2 * kBuffer + 16384}, false});  // unknown window
    present(id + 5, 0, 1, std::span(&whole, 0));  // no rectangles
    destroy(id);      // already dropped
    destroy(id + 5);
    destroy(id + 6);  // never existed
    guest.channel(ch).notify_sent();
    guest_drain(guest, ch);  // Released / Dropped: the guest reads them
    c.rounds.fetch_add(1, std::memory_order_relaxed);
  }
}

void surface_valid(Host& host, const std::atomic<bool>& stop, GuestCounters& c) {
  ringbus::Bus& guest = host.guest_bus();
  const std::uint32_t ch = guest.surface_channel();
  ringbus::Channel& channel = guest.channel(ch);
  constexpr std::uint32_t kSide = kSessionWindowSide;
  constexpr std::uint64_t kBuffer = std::uint64_t{kSide} * kSide * 4;
  const rdpmux::SurfaceRectWire whole{0, 0, kSide, kSide};
  struct Surface {
    std::uint64_t seq = 0;
    bool free[2] = {true, true};
  };
  Surface s[kSessionWindows];
  for (std::uint32_t w = 0; w < kSessionWindows; ++w) {
    const rdpmux::SurfaceGeometry g{100 + w, 1 + w, kSide, kSide, kSide * 4, 2, {2 * w * kBuffer, (2 * w + 1) * kBuffer}, false};
    send(guest, ch, stop, c, [&] { auto r = rdpmux::send_surface_geometry(channel.tx(), g); return r && *r; });
  }
  channel.notify_sent();
  while (!stop.load(std::memory_order_relaxed)) {
    bool sent = false;
    for (std::uint32_t w = 0; w < kSessionWindows; ++w)
      for (std::uint32_t b = 0; b < 2; ++b) {
        if (!s[w].free[b]) continue;
        const rdpmux::SurfacePresentMsg m{100 + w, b, ++s[w].seq, 0, 1, 0};
        auto r = rdpmux::send_surface_present(channel.tx(), m, std::span(&whole, 1));
        if (!r || !*r) {
          --s[w].seq;
          continue;
        }
        s[w].free[b] = false;
        sent = true;
        c.records.fetch_add(1, std::memory_order_relaxed);
      }
    if (sent) channel.notify_sent();
    // Released gives a buffer back.
    for (;;) {
      auto n = channel.rx().read(
          [&](const ringbus::RecordView& r) {
            auto m = rdpmux::decode_host_surface(r.type, r.payload);
            if (!m) return;
            if (const auto* rel = std::get_if<rdpmux::SurfaceReleasedMsg>(&*m))
              if (rel->surface_id >= 100 && rel->surface_id < 100 + kSessionWindows && rel->buffer < 2)
                s[rel->surface_id - 100].free[rel->buffer] = true;
          },
          256);
      if (!n || *n == 0) break;
      channel.notify_released();
    }
    if (!sent) std::this_thread::sleep_for(50us);
  }
}

namespace {

// Forwards the model's events to the display, counting them (the backlog of the UI thread).
class CountingEvents final : public rdpmux::host::WindowEvents {
 public:
  explicit CountingEvents(rdpmux::host::WindowEvents& to) : to_(to) {}
  std::uint64_t posted() const { return posted_; }
  void window_created(const rdpmux::host::WindowState& s) override { ++posted_; to_.window_created(s); }
  void window_changed(const rdpmux::host::WindowState& s, std::uint32_t what) override {
    ++posted_;
    to_.window_changed(s, what);
  }
  void window_deleted(rdpmux::host::WindowId id) override { ++posted_; to_.window_deleted(id); }
  void z_order_changed(std::span<const rdpmux::host::WindowId> ids) override { ++posted_; to_.z_order_changed(ids); }
  void active_window_changed(rdpmux::host::WindowId id) override { ++posted_; to_.active_window_changed(id); }
  void notify_icon_changed(const rdpmux::host::NotifyIconState& s) override { ++posted_; to_.notify_icon_changed(s); }
  void notify_icon_deleted(rdpmux::host::WindowId w, std::uint32_t icon) override {
    ++posted_;
    to_.notify_icon_deleted(w, icon);
  }
  void local_move_size(const rdpmux::host::LocalMoveSize& r) override { ++posted_; to_.local_move_size(r); }

 private:
  rdpmux::host::WindowEvents& to_;
  std::uint64_t posted_ = 0;
};

}  // namespace

void window_storm(Host& host, const std::atomic<bool>& stop, GuestCounters& c) {
  namespace rh = rdpmux::host;
  constexpr std::uint64_t kBacklogCap = 200'000;
  constexpr std::uint32_t kBatch = 1000;
  CountingEvents events(host.display());
  rh::WindowModel model(events);
  // The display's applied-callback count at the start: the backlog is posted minus applied since.
  const std::uint64_t applied0 = host.display().stats().callbacks;
  auto backlog = [&] {
    const std::uint64_t applied = host.display().stats().callbacks - applied0;
    return events.posted() > applied ? events.posted() - applied : 0;
  };
  auto order = [&](rh::WindowId id, std::uint32_t w, std::uint32_t h) {
    rh::WindowOrder o;
    o.id = id;
    o.fields = rh::WindowOrder::kStyle | rh::WindowOrder::kShow | rh::WindowOrder::kTitle |
               rh::WindowOrder::kWindowOffset | rh::WindowOrder::kWindowSize;
    o.style = rh::style::kCaption;
    o.show = static_cast<std::uint32_t>(rh::ShowState::kNormal);
    o.title = "storm";
    o.window_offset = {static_cast<std::int32_t>(id % 100) * 10, 0};
    o.window_width = w;
    o.window_height = h;
    return o;
  };
  auto pace = [&] {
    for (;;) {
      const std::uint64_t b = backlog();
      if (b > c.backlog_max.load(std::memory_order_relaxed)) c.backlog_max.store(b, std::memory_order_relaxed);
      if (b < kBacklogCap || stop.load(std::memory_order_relaxed)) return;
      c.throttled.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(1ms);
    }
  };
  for (rh::WindowId base = 100; !stop.load(std::memory_order_relaxed); base += kBatch) {
    for (std::uint32_t k = 0; k < kBatch && !stop.load(std::memory_order_relaxed); ++k) {
      const bool fits = (k % 16) == 0;
      if (!model.create(order(base + k, fits ? 1920 : 16384, fits ? 1080 : 16384))) c.errors.fetch_add(1);
      c.records.fetch_add(1, std::memory_order_relaxed);
      if ((k & 255) == 0) pace();
    }
    for (std::uint32_t k = 0; k < kBatch && !stop.load(std::memory_order_relaxed); ++k) {
      rh::WindowOrder o = order(base + k, 16384, 8192 + k);
      o.fields = rh::WindowOrder::kWindowSize;
      if (!model.update(o)) c.errors.fetch_add(1);
      c.records.fetch_add(1, std::memory_order_relaxed);
      if ((k & 255) == 0) pace();
    }
    for (std::uint32_t k = 0; k < kBatch; ++k) {
      if (model.find(base + k) && !model.remove(base + k)) c.errors.fetch_add(1);
      c.records.fetch_add(1, std::memory_order_relaxed);
      if ((k & 255) == 0) pace();
    }
    c.rounds.fetch_add(1, std::memory_order_relaxed);
  }
}

void doorbell_forgery(Host& host, const std::atomic<bool>& stop, GuestCounters& c, bool forge) {
  ringbus::Bus& guest = host.guest_bus();
  const ringbus::ChannelDesc& d = guest.layout().channels.at(kUnopenedChannel);
  auto* forged = reinterpret_cast<ringbus::RingControl*>(guest.base() + d.g2h_offset);
  ringbus::EventfdDoorbell* host_bell = host.guest_bells().host(0);
  auto next_ring = std::chrono::steady_clock::now();
  while (!stop.load(std::memory_order_relaxed)) {
    if (forge) {  // "the host's reader sleeps on channel 2 and 4096 bytes wait for it", again and again
      std::atomic_ref<std::uint32_t>(forged->consumer_waiting).store(1);
      std::atomic_ref<std::uint64_t>(forged->tail).store(4096);
      std::atomic_ref<std::uint64_t>(forged->head).store(0);
    }
    if (std::chrono::steady_clock::now() >= next_ring && host_bell != nullptr) {
      host_bell->ring();
      c.rings.fetch_add(1, std::memory_order_relaxed);
      next_ring += 10ms;
    }
    std::this_thread::sleep_for(1ms);
  }
}

}  // namespace vitrine::bench::hostile
