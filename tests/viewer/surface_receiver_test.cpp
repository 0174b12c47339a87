// SurfaceReceiver against a scripted guest on a real bus: the buffer hand-over, and a hostile
// producer writing wrong offsets, sizes, sequence numbers and rectangles into the channel and
// the pool. The host stays up, counts each fault, drops that surface and keeps serving others.
#include "vitrine/viewer/surface_receiver.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <functional>

#include "vitrine/ringbus/surface_pool.hpp"

namespace vitrine::viewer {
namespace {

using rdpmux::SurfaceGeometry;
using rdpmux::SurfaceRectWire;

struct FakeDisplay final : SurfaceSink {
  struct Window {
    std::uint32_t width = 0, height = 0;
    std::vector<std::byte> pixels;  // what the host texture would hold
    std::uint64_t frames = 0;
  };
  std::map<std::uint32_t, Window> windows;  // attached surfaces by window
  std::set<std::uint32_t> known{1, 2, 3, 4, 5, 6, 7, 8};  // windows the display knows
  std::uint64_t detached = 0;

  bool surface_attached(std::uint32_t window, std::uint32_t w, std::uint32_t h) override {
    if (!known.contains(window)) return false;
    auto& win = windows[window];
    win.width = w;
    win.height = h;
    win.pixels.assign(std::size_t{w} * h * 4, std::byte{0});
    return true;
  }
  void surface_presented(std::uint32_t window, const SurfaceFrame& f) override {
    auto& win = windows.at(window);
    EXPECT_EQ(win.width, f.width);
    for (const auto& r : f.rects)
      for (std::int32_t y = r.y; y < r.y + r.height; ++y)
        std::memcpy(win.pixels.data() + (std::size_t(y) * f.width + r.x) * 4, f.pixels + std::size_t(y) * f.stride + std::size_t(r.x) * 4,
                    std::size_t(r.width) * 4);
    ++win.frames;
  }
  void surface_detached(std::uint32_t window) override {
    windows.erase(window);
    ++detached;
  }
};

class SurfaceReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ringbus::BusConfig config = ringbus::BusConfig::uniform(3, 16, 16);
    config.surface_pool_bytes = 8u << 20;
    auto host = ringbus::Bus::create(config);
    ASSERT_TRUE(host) << ringbus::to_string(host.error());
    host_ = std::make_unique<ringbus::Bus>(std::move(*host));
    auto guest = ringbus::Bus::attach_mapping(host_->base(), host_->size(), ringbus::Side::kGuest);
    ASSERT_TRUE(guest);
    guest_ = std::make_unique<ringbus::Bus>(std::move(*guest));
    pool_ = std::make_unique<ringbus::SurfacePool>(guest_->surface_pool_size());
    auto r = SurfaceReceiver::create(*host_, display_);
    ASSERT_TRUE(r) << r.error();
    receiver_ = std::move(*r);
    expect_host_ready();
  }

  ringbus::Ring& g2h() { return guest_->channel(guest_->surface_channel()).tx(); }
  ringbus::Ring& h2g() { return guest_->channel(guest_->surface_channel()).rx(); }

  void expect_host_ready() {
    auto rec = h2g().peek();
    ASSERT_TRUE(rec && *rec);
    auto m = rdpmux::decode_host_surface(rec->type, rec->payload);
    ASSERT_TRUE(m) << m.error();
    ASSERT_TRUE(std::holds_alternative<rdpmux::SurfaceHostReadyMsg>(*m));
    h2g().release();
  }

  // Guest: a surface with two buffers for `window`.
  SurfaceGeometry create(std::uint32_t id, std::uint32_t window, std::uint32_t w, std::uint32_t h) {
    SurfaceGeometry g{id, window, w, h, w * 4, 2, {}, false};
    for (int b = 0; b < 2; ++b) g.buffer_offset[b] = *pool_->allocate(std::uint64_t{w} * h * 4);
    EXPECT_TRUE(*rdpmux::send_surface_geometry(g2h(), g));
    return g;
  }
  std::byte* buffer(const SurfaceGeometry& g, std::uint32_t b) {
    return guest_->surface_bytes(g.buffer_offset[b], 0)->data();
  }
  void present(std::uint32_t id, std::uint32_t b, std::uint64_t seq, std::vector<SurfaceRectWire> rects) {
    rdpmux::SurfacePresentMsg m{id, b, seq, 0, 0, 0};
    EXPECT_TRUE(*rdpmux::send_surface_present(g2h(), m, rects));
  }
  void raw(std::uint16_t type, const void* data, std::size_t n) {
    auto c = g2h().try_claim(static_cast<std::uint32_t>(n));
    ASSERT_TRUE(c && *c);
    std::memcpy(c->data, data, n);
    g2h().commit(static_cast<std::uint32_t>(n), type);
  }
  void pump() {
    while (receiver_->poll()) {
    }
  }
  // Guest: the Released / Dropped replies waiting for it.
  std::vector<rdpmux::HostSurfaceMessage> replies() {
    std::vector<rdpmux::HostSurfaceMessage> out;
    for (;;) {
      auto rec = h2g().peek();
      if (!rec || !*rec) break;
      auto m = rdpmux::decode_host_surface(rec->type, rec->payload);
      EXPECT_TRUE(m);
      if (m) out.push_back(*m);
      h2g().release();
    }
    return out;
  }

  FakeDisplay display_;
  std::unique_ptr<ringbus::Bus> host_, guest_;
  std::unique_ptr<ringbus::SurfacePool> pool_;
  std::unique_ptr<SurfaceReceiver> receiver_;
};

TEST_F(SurfaceReceiverTest, presentedRectanglesReachTheDisplayAndTheBufferComesBack) {
  auto g = create(10, 1, 64, 32);
  std::memset(buffer(g, 0), 0x11, 64 * 32 * 4);
  present(10, 0, 1, {{0, 0, 64, 32}});
  std::memset(buffer(g, 1), 0x22, 64 * 32 * 4);
  present(10, 1, 2, {{8, 4, 10, 6}});
  pump();
  ASSERT_TRUE(display_.windows.contains(1));
  const auto& win = display_.windows[1];
  EXPECT_EQ(win.frames, 2u);
  EXPECT_EQ(win.pixels[0], std::byte{0x11});
  EXPECT_EQ(win.pixels[(5 * 64 + 9) * 4], std::byte{0x22});
  EXPECT_EQ(win.pixels[(5 * 64 + 30) * 4], std::byte{0x11}) << "outside the damage: the older frame";
  auto r = replies();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(std::get<rdpmux::SurfaceReleasedMsg>(r[0]).buffer, 0u);
  EXPECT_EQ(std::get<rdpmux::SurfaceReleasedMsg>(r[1]).sequence, 2u);
  EXPECT_EQ(receiver_->counters().presents, 2u);
  EXPECT_EQ(receiver_->counters().bytes_presented, (64u * 32 + 60) * 4);
  EXPECT_EQ(receiver_->counters().faults, 0u);
}

// The UI loop sleeps only when prepare_sleep() says so: true with nothing to read (the reader is
// armed, so the guest's next commit rings the doorbell), false while records wait. It once
// answered the other way round: the loop spun while idle and slept through waiting Presents.
TEST_F(SurfaceReceiverTest, prepareSleepAllowsSleepOnlyWhenNothingWaits) {
  pump();
  EXPECT_TRUE(receiver_->prepare_sleep()) << "nothing to read: sleeping is safe";
  auto& rx = host_->channel(host_->surface_channel()).rx();
  create(10, 1, 8, 8);
  EXPECT_TRUE(rx.reader_waits_with_records()) << "armed: the guest's commit is a wake-up";
  EXPECT_FALSE(receiver_->prepare_sleep()) << "a record waits: do not sleep";
  pump();
  EXPECT_EQ(receiver_->counters().creates, 1u);
  EXPECT_TRUE(receiver_->prepare_sleep());
}

TEST_F(SurfaceReceiverTest, aBufferIsTheHostsUntilItsReleasedIsWritten) {
  create(10, 1, 16, 16);
  // Fill the host->guest ring so Released cannot be written: the guest does not read it.
  while (true) {
    rdpmux::SurfaceReleasedMsg filler{99, 0, 0};
    auto c = host_->channel(host_->surface_channel()).tx().try_claim(sizeof filler);
    if (!c || !*c) break;
    std::memcpy(c->data, &filler, sizeof filler);
    host_->channel(host_->surface_channel()).tx().commit(sizeof filler, rdpmux::kSurfaceReleased);
  }
  present(10, 0, 1, {{0, 0, 16, 16}});
  present(10, 0, 2, {{0, 0, 16, 16}});  // the same buffer again before it was given back
  pump();
  EXPECT_EQ(receiver_->counters().presents, 1u);
  EXPECT_EQ(receiver_->counters().dropped, 1u);
  EXPECT_FALSE(display_.windows.contains(1));
}

TEST_F(SurfaceReceiverTest, resizeKeepsTheSurfaceAndItsSequence) {
  create(10, 1, 16, 16);
  present(10, 0, 1, {{0, 0, 16, 16}});
  pump();
  (void)replies();
  SurfaceGeometry r{10, 1, 40, 20, 160, 3, {}, true};
  for (int b = 0; b < 3; ++b) r.buffer_offset[b] = *pool_->allocate(160 * 20);
  ASSERT_TRUE(*rdpmux::send_surface_geometry(g2h(), r));
  present(10, 2, 1, {{0, 0, 40, 20}});  // sequence went back: refused
  pump();
  EXPECT_EQ(receiver_->counters().resizes, 1u);
  EXPECT_EQ(receiver_->counters().dropped, 1u);
  EXPECT_EQ(display_.detached, 1u);
}

TEST_F(SurfaceReceiverTest, hostileRecordsDropOnlyTheirSurfaceAndAreCounted) {
  auto good = create(1, 1, 32, 32);
  const std::uint64_t pool = guest_->surface_pool_size();
  const auto max64 = std::numeric_limits<std::uint64_t>::max();
  struct Case {
    const char* what;
    std::function<void(std::uint32_t id, std::uint32_t window)> attack;
  };
  std::vector<Case> cases = {
      {"buffer past the pool", [&](auto id, auto w) {
         SurfaceGeometry g{id, w, 64, 64, 256, 2, {0, pool - 4096}, false};
         ASSERT_TRUE(*rdpmux::send_surface_geometry(g2h(), g));
       }},
      {"offset near 2^64", [&](auto id, auto w) {
         SurfaceGeometry g{id, w, 64, 64, 256, 2, {max64 - 100, 0}, false};
         ASSERT_TRUE(*rdpmux::send_surface_geometry(g2h(), g));
       }},
      {"stride below the width", [&](auto id, auto w) {
         SurfaceGeometry g{id, w, 64, 64, 255, 2, {0, 0}, false};
         ASSERT_TRUE(*rdpmux::send_surface_geometry(g2h(), g));
       }},
      {"huge size", [&](auto id, auto w) {
         SurfaceGeometry g{id, w, 70000, 2, 280000, 2, {0, 0}, false};
         ASSERT_TRUE(*rdpmux::send_surface_geometry(g2h(), g));
       }},
      {"one buffer", [&](auto id, auto w) {
         SurfaceGeometry g{id, w, 8, 8, 32, 1, {0, 0}, false};
         ASSERT_TRUE(*rdpmux::send_surface_geometry(g2h(), g));
       }},
      {"short create record", [&](auto id, auto) { raw(rdpmux::kSurfaceCreate, &id, sizeof id); }},
      {"rectangle outside", [&](auto id, auto w) {
         create(id, w, 16, 16);
         present(id, 0, 1, {{8, 8, 9, 1}});
       }},
      {"rectangle wrapping int32", [&](auto id, auto w) {
         create(id, w, 16, 16);
         present(id, 0, 1, {{1, 0, std::numeric_limits<std::int32_t>::max(), 1}});
       }},
      {"negative rectangle", [&](auto id, auto w) {
         create(id, w, 16, 16);
         present(id, 0, 1, {{-1, 0, 4, 4}});
       }},
      {"buffer index", [&](auto id, auto w) {
         create(id, w, 16, 16);
         present(id, 7, 1, {{0, 0, 4, 4}});
       }},
      {"stale sequence", [&](auto id, auto w) {
         create(id, w, 16, 16);
         present(id, 0, 5, {{0, 0, 4, 4}});
         present(id, 1, 5, {{0, 0, 4, 4}});
       }},
      {"rect count lies", [&](auto id, auto w) {
         create(id, w, 16, 16);
         rdpmux::SurfacePresentMsg m{id, 0, 1, 0, 3, 0};
         SurfaceRectWire r{0, 0, 1, 1};
         std::byte rec[sizeof m + sizeof r];
         std::memcpy(rec, &m, sizeof m);
         std::memcpy(rec + sizeof m, &r, sizeof r);
         raw(rdpmux::kSurfacePresent, rec, sizeof rec);
       }},
      {"too many rects", [&](auto id, auto w) {
         create(id, w, 16, 16);
         present(id, 0, 1, std::vector<SurfaceRectWire>(rdpmux::kSurfaceMaxPresentRects + 1, {0, 0, 1, 1}));
       }},
      {"unknown type", [&](auto id, auto) { raw(77, &id, sizeof id); }},
  };
  std::uint64_t faults = 0;
  std::uint32_t next = 100;
  for (auto& c : cases) {
    SCOPED_TRACE(c.what);
    c.attack(next, 2);
    ++next;
    pump();
    EXPECT_GT(receiver_->counters().faults, faults) << c.what << " was not counted";
    faults = receiver_->counters().faults;
    EXPECT_FALSE(display_.windows.contains(2));
    // The good surface keeps working after every attack.
    std::memset(buffer(good, 0), int(next & 0xff), 32 * 32 * 4);
    static std::uint64_t seq = 0;
    present(1, 0, ++seq, {{0, 0, 32, 32}});
    pump();
    ASSERT_TRUE(display_.windows.contains(1));
    EXPECT_EQ(display_.windows[1].pixels[100], std::byte(next & 0xff));
    (void)replies();
  }
}

TEST_F(SurfaceReceiverTest, aBrokenRingResetsTheChannelAndAnnouncesAgain) {
  create(1, 1, 8, 8);
  pump();
  ASSERT_TRUE(display_.windows.contains(1));
  // The guest moves its tail far past the host's head: the ring is broken.
  auto* ctl = reinterpret_cast<ringbus::RingControl*>(host_->base() + host_->layout().channels[host_->surface_channel()].g2h_offset);
  std::atomic_ref<std::uint64_t>(ctl->tail).store(std::uint64_t{1} << 40);
  pump();
  EXPECT_EQ(receiver_->counters().ring_faults, 1u);
  EXPECT_FALSE(display_.windows.contains(1));
}

TEST_F(SurfaceReceiverTest, surfacesPastTheLimitAndForUnknownWindowsAreRefused) {
  create(1, 42, 8, 8);  // the display has no window 42
  pump();
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(std::get<rdpmux::SurfaceDroppedMsg>(r[0]).reason, rdpmux::kDropNoWindow);
  present(1, 0, 1, {{0, 0, 8, 8}});
  pump();
  EXPECT_EQ(receiver_->counters().ignored, 1u) << "later records of a refused surface are ignored quietly";
}

TEST_F(SurfaceReceiverTest, aFloodIsHandledWithinThePollBudget) {
  create(1, 1, 8, 8);
  std::uint64_t seq = 0;
  int sent = 0;
  for (; sent < 3000; ++sent) {
    rdpmux::SurfacePresentMsg m{1, std::uint32_t(sent & 1), ++seq, 0, 0, 0};
    SurfaceRectWire rect{0, 0, 1, 1};
    auto ok = rdpmux::send_surface_present(g2h(), m, {&rect, 1});
    if (!ok || !*ok) break;
  }
  ASSERT_GT(sent, 300);
  EXPECT_TRUE(receiver_->poll()) << "one poll stops at its budget";
  EXPECT_GE(receiver_->counters().budget_yields, 1u);
}

}  // namespace
}  // namespace vitrine::viewer
