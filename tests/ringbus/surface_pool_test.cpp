// The surface pool: the guest's allocator, the region header's pool fields and their validation,
// and the host's bounds check of guest-named pool offsets.
#include "vitrine/ringbus/surface_pool.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "vitrine/ringbus/bus.hpp"

namespace vitrine::ringbus {
namespace {

constexpr std::uint64_t kPage = SurfacePool::kAlign;

BusConfig pooled(std::uint64_t pool_bytes) {
  BusConfig c = BusConfig::uniform(3, 12, 12);
  c.surface_pool_bytes = pool_bytes;
  return c;
}

std::vector<std::byte> image_of(const BusConfig& config) {
  auto bus = Bus::create(config);
  EXPECT_TRUE(bus) << to_string(bus.error());
  return std::vector<std::byte>(bus->base(), bus->base() + bus->size());
}

// Rewrites the header of `image` through `edit` and reseals its checksum, as a hostile or buggy
// creator would.
template <typename Edit>
void forge(std::vector<std::byte>& image, Edit edit) {
  RegionHeader h;
  std::memcpy(&h, image.data(), sizeof h);
  edit(h);
  h.checksum = 0;
  h.checksum = XXH3_64bits(&h, sizeof h);
  std::memcpy(image.data(), &h, sizeof h);
}

TEST(SurfacePool, allocatesPageAlignedRunsAndMergesThemBackOnFree) {
  SurfacePool pool(16 * kPage + 100);  // the odd tail is not usable
  EXPECT_EQ(pool.size(), 16 * kPage);
  auto a = pool.allocate(1);
  auto b = pool.allocate(3 * kPage);
  auto c = pool.allocate(kPage + 1);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, 0u);
  EXPECT_EQ(*b, kPage);
  EXPECT_EQ(*c, 4 * kPage);
  EXPECT_EQ(pool.bytes_free(), 10 * kPage);
  EXPECT_TRUE(pool.free(*b));
  EXPECT_FALSE(pool.free(*b)) << "double free refused";
  EXPECT_FALSE(pool.free(kPage / 2)) << "an offset it never gave";
  EXPECT_EQ(pool.allocate(2 * kPage), *b) << "first fit reuses the hole";
  EXPECT_TRUE(pool.free(*a));
  EXPECT_TRUE(pool.free(*c));
  EXPECT_TRUE(pool.free(*b));
  EXPECT_EQ(pool.bytes_free(), 16 * kPage);
  EXPECT_EQ(pool.largest_free(), 16 * kPage) << "all runs merged";
  EXPECT_FALSE(pool.allocate(17 * kPage));
  EXPECT_FALSE(pool.allocate(0));
  EXPECT_FALSE(pool.allocate(std::numeric_limits<std::uint64_t>::max()));
}

TEST(SurfacePool, randomAllocationsNeverOverlapAndAlwaysReturnEverything) {
  SurfacePool pool(256 * kPage);
  std::mt19937_64 rng(15);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> live;  // offset, bytes
  for (int round = 0; round < 5000; ++round) {
    if (live.empty() || rng() % 3 != 0) {
      const std::uint64_t bytes = 1 + rng() % (20 * kPage);
      if (auto off = pool.allocate(bytes)) {
        EXPECT_EQ(*off % kPage, 0u);
        EXPECT_LE(*off + bytes, pool.size());
        for (const auto& [o, n] : live) EXPECT_TRUE(*off + bytes <= o || o + n <= *off) << "overlap";
        live.emplace_back(*off, bytes);
      }
    } else {
      const std::size_t i = rng() % live.size();
      EXPECT_TRUE(pool.free(live[i].first));
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  for (const auto& [o, n] : live) EXPECT_TRUE(pool.free(o));
  EXPECT_EQ(pool.bytes_free(), pool.size());
  EXPECT_EQ(pool.largest_free(), pool.size());
}

TEST(SurfacePoolRegion, aPooledBusOffersThePoolOnTheLastChannel) {
  auto bus = Bus::create(pooled(10 * kPage + 1));
  ASSERT_TRUE(bus) << to_string(bus.error());
  EXPECT_TRUE(bus->has_surface_pool());
  EXPECT_EQ(bus->surface_channel(), 2u);
  EXPECT_EQ(bus->surface_pool_size(), 11 * kPage);
  EXPECT_EQ(bus->surface_pool_offset() + bus->surface_pool_size(), bus->size());
  auto guest = Bus::attach_mapping(bus->base(), bus->size(), Side::kGuest);
  ASSERT_TRUE(guest);
  EXPECT_EQ(guest->surface_channel(), 2u);
  EXPECT_EQ(guest->surface_pool_offset(), bus->surface_pool_offset());

  auto plain = Bus::create(BusConfig::uniform(2, 12, 12));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->has_surface_pool());
  EXPECT_FALSE(plain->surface_bytes(0, 1));
  BusConfig lone = BusConfig::uniform(1, 12, 12);
  lone.surface_pool_bytes = kPage;
  EXPECT_EQ(Bus::create(lone).error().code, Errc::kInvalidArgument) << "channel 0 cannot carry surfaces";
}

TEST(SurfacePoolRegion, surfaceBytesRefusesEveryRangeOutsideThePool) {
  auto bus = Bus::create(pooled(4 * kPage));
  ASSERT_TRUE(bus);
  const std::uint64_t size = bus->surface_pool_size();
  auto all = bus->surface_bytes(0, size);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->data(), bus->base() + bus->surface_pool_offset());
  EXPECT_TRUE(bus->surface_bytes(size, 0));
  EXPECT_FALSE(bus->surface_bytes(size, 1));
  EXPECT_FALSE(bus->surface_bytes(1, size));
  EXPECT_FALSE(bus->surface_bytes(size + 1, 0));
  const auto max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_FALSE(bus->surface_bytes(max, 2)) << "offset + bytes wraps";
  EXPECT_FALSE(bus->surface_bytes(2, max));
  EXPECT_FALSE(bus->surface_bytes(max - kPage + 1, kPage));
}

TEST(SurfacePoolRegion, forgedPoolFieldsAreRefusedAtAttach) {
  const auto base = image_of(pooled(4 * kPage));
  ASSERT_TRUE(validate_region(base.data(), base.size()));
  const auto refused = [&](auto edit, const char* why) {
    auto image = base;
    forge(image, edit);
    auto r = validate_region(image.data(), image.size());
    EXPECT_FALSE(r) << why;
  };
  refused([](RegionHeader& h) { h.surface_channel = 0; }, "control channel");
  refused([](RegionHeader& h) { h.surface_channel = h.channel_count; }, "no such channel");
  refused([](RegionHeader& h) { h.surface_pool_offset += 1; }, "unaligned");
  refused([](RegionHeader& h) { h.surface_pool_size += kPage; }, "past the region");
  refused([](RegionHeader& h) { h.surface_pool_offset = std::numeric_limits<std::uint64_t>::max() & ~(kPage - 1); },
          "offset near 2^64");
  refused([](RegionHeader& h) { h.surface_pool_offset = h.channel_table_offset & ~(kPage - 1); }, "over the header");
  refused([](RegionHeader& h) { h.surface_pool_offset -= 2 * kPage; }, "over the last ring");
  refused([](RegionHeader& h) { h.surface_pool_size = 0; }, "channel without a pool");
}

}  // namespace
}  // namespace vitrine::ringbus
