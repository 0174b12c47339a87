#include "vitrine/compositor/tile_hasher.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace vitrine::compositor {
namespace {

struct Frame {
  int width, height;
  std::size_t stride;
  std::vector<std::byte> bytes;
  Frame(int w, int h, std::size_t pad) : width(w), height(h), stride(static_cast<std::size_t>(w) * 4 + pad),
                                        bytes(stride * static_cast<std::size_t>(h)) {}
  PixelSource view() const { return {bytes.data(), width, height, stride}; }
  void poke(int x, int y, std::uint8_t v) { bytes[static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x) * 4 + 1] = std::byte{v}; }
};

TEST(TileHasher, FirstFilterKeepsAllDamageThenNothingWhenUnchanged) {
  Frame f(200, 130, 12);
  TileHasher h;
  DamageRegion all(DesktopRect{0, 0, 200, 130});
  EXPECT_EQ(h.filter(all, f.view()), all);
  EXPECT_TRUE(h.filter(all, f.view()).empty());
  EXPECT_EQ(h.tiles_unchanged(), 4u * 3u);
}

TEST(TileHasher, FindsExactlyTheChangedTiles) {
  Frame f(300, 200, 0);
  std::mt19937 rng(3);
  for (auto& b : f.bytes) b = std::byte{static_cast<std::uint8_t>(rng())};
  TileHasher h;
  const DamageRegion all(DesktopRect{0, 0, 300, 200});
  (void)h.filter(all, f.view());
  for (int round = 0; round < 20; ++round) {
    std::set<std::pair<int, int>> changed;
    for (int k = 0; k < 5; ++k) {
      const int x = static_cast<int>(rng() % 300), y = static_cast<int>(rng() % 200);
      f.poke(x, y, static_cast<std::uint8_t>(f.bytes[static_cast<std::size_t>(y) * f.stride + static_cast<std::size_t>(x) * 4 + 1]) ^ 0x5a);
      changed.insert({x / 64, y / 64});
    }
    DamageRegion expected;
    for (auto [tx, ty] : changed) expected.add(DesktopRect{tx * 64, ty * 64, 64, 64});
    expected.intersect(DesktopRect{0, 0, 300, 200});
    EXPECT_EQ(h.filter(all, f.view()), expected) << "round " << round;
  }
}

TEST(TileHasher, KeepsOnlyTheDamagePartInsideChangedTiles) {
  Frame f(128, 128, 0);
  TileHasher h;
  (void)h.filter(DamageRegion(DesktopRect{0, 0, 128, 128}), f.view());
  f.poke(70, 70, 9);  // tile (1,1)
  DamageRegion damage(DesktopRect{10, 10, 100, 100});
  DamageRegion out = h.filter(damage, f.view());
  EXPECT_EQ(out, DamageRegion(DesktopRect{64, 64, 46, 46}));
}

TEST(TileHasher, DamageOutsideTheSourceIsDroppedAndSizeChangeForgets) {
  Frame f(64, 64, 0);
  TileHasher h;
  EXPECT_EQ(h.filter(DamageRegion(DesktopRect{-100, -100, 1000, 1000}), f.view()),
            DamageRegion(DesktopRect{0, 0, 64, 64}));
  Frame g(65, 64, 0);
  EXPECT_EQ(h.filter(DamageRegion(DesktopRect{0, 0, 65, 64}), g.view()), DamageRegion(DesktopRect{0, 0, 65, 64}));
  h.reset();
  EXPECT_FALSE(h.filter(DamageRegion(DesktopRect{0, 0, 10, 10}), g.view()).empty());
  EXPECT_TRUE(h.filter(DamageRegion(DesktopRect{0, 0, 10, 10}), PixelSource{}).empty());
}

}  // namespace
}  // namespace vitrine::compositor
