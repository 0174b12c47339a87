// Drops damage that did not really change pixels. The desktop is cut into 64x64 tiles; each
// tile's xxh3-64 hash is remembered. filter() hashes every tile the damage touches and keeps
// only the damage inside tiles whose hash changed (wlroots has no such step; Looking Glass and
// SPICE do similar frame diffing). Worth it when producers over-report: a blinking caret
// repainting an unchanged line, RDP servers resending whole bitmaps.
//
// Cost: hashing reads every byte of every touched tile (~10+ GB/s for xxh3), about the same
// as copying it once into upload memory; the win is the GPU upload and the present of windows
// that did not change. One owner thread.
#pragma once

#include <cstdint>
#include <vector>

#include "vitrine/compositor/damage_region.hpp"
#include "vitrine/compositor/pixel_source.hpp"

namespace vitrine::compositor {

class TileHasher {
 public:
  static constexpr std::int32_t kTileSize = 64;  // pixels, both directions

  // Returns the part of `damage` (desktop coordinates) that lies in tiles whose pixels changed
  // since the previous filter() of those tiles, and remembers the new hashes. Damage outside
  // the source's bounds is dropped. A size change of the source forgets every hash.
  DamageRegion filter(const DamageRegion& damage, const PixelSource& source);

  // Forgets every hash: the next filter() keeps all damage (use after the texture was lost).
  void reset();

  [[nodiscard]] std::uint64_t tiles_hashed() const { return tiles_hashed_; }
  [[nodiscard]] std::uint64_t tiles_unchanged() const { return tiles_unchanged_; }

 private:
  std::int32_t width_ = 0;
  std::int32_t height_ = 0;
  std::int32_t tiles_x_ = 0;
  std::vector<std::uint64_t> hashes_;
  std::vector<std::uint8_t> known_;  // 1 once hashes_[i] holds a real hash
  std::vector<std::uint32_t> visit_mark_;  // per-tile epoch: hash each tile once per filter()
  std::uint32_t epoch_ = 0;
  std::uint64_t tiles_hashed_ = 0;
  std::uint64_t tiles_unchanged_ = 0;
};

}  // namespace vitrine::compositor
