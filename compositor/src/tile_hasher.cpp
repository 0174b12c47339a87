#include "vitrine/compositor/tile_hasher.hpp"

// XXH3_state_t on the stack needs the static-linking-only declarations.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <algorithm>

namespace vitrine::compositor {

void TileHasher::reset() {
  std::fill(known_.begin(), known_.end(), std::uint8_t{0});
}

DamageRegion TileHasher::filter(const DamageRegion& damage, const PixelSource& source) {
  if (!source.valid()) return {};
  if (source.width != width_ || source.height != height_) {
    width_ = source.width;
    height_ = source.height;
    tiles_x_ = (width_ + kTileSize - 1) / kTileSize;
    const std::int32_t tiles_y = (height_ + kTileSize - 1) / kTileSize;
    const auto n = static_cast<std::size_t>(tiles_x_) * static_cast<std::size_t>(tiles_y);
    hashes_.assign(n, 0);
    known_.assign(n, 0);
    visit_mark_.assign(n, 0);
    epoch_ = 0;
  }
  if (++epoch_ == 0) {  // wrapped: clear marks so that stale ones cannot match
    std::fill(visit_mark_.begin(), visit_mark_.end(), 0u);
    epoch_ = 1;
  }
  DamageRegion clipped = damage.copy();
  clipped.intersect(source.bounds());

  DamageRegion changed;  // whole changed tiles; intersected with the damage once at the end
  XXH3_state_t state;
  for (const auto& b : clipped.boxes()) {
    for (std::int32_t ty = b.y1 / kTileSize; ty <= (b.y2 - 1) / kTileSize; ++ty) {
      for (std::int32_t tx = b.x1 / kTileSize; tx <= (b.x2 - 1) / kTileSize; ++tx) {
        const std::size_t i = static_cast<std::size_t>(ty) * static_cast<std::size_t>(tiles_x_) +
                              static_cast<std::size_t>(tx);
        if (visit_mark_[i] == epoch_) continue;
        visit_mark_[i] = epoch_;
        const DesktopRect tile =
            DesktopRect{tx * kTileSize, ty * kTileSize, kTileSize, kTileSize}.intersect(source.bounds());
        // Rows are hashed one by one: the source stride may be larger than a tile row.
        XXH3_64bits_reset(&state);
        const std::size_t row_bytes = static_cast<std::size_t>(tile.width) * kBytesPerPixel;
        for (std::int32_t y = tile.y; y < tile.y + tile.height; ++y) {
          XXH3_64bits_update(&state, source.pixel(tile.x, y), row_bytes);
        }
        const std::uint64_t h = XXH3_64bits_digest(&state);
        ++tiles_hashed_;
        if (known_[i] != 0 && hashes_[i] == h) {
          ++tiles_unchanged_;
          continue;
        }
        hashes_[i] = h;
        known_[i] = 1;
        changed.add(tile);
      }
    }
  }
  changed.intersect(clipped);
  return changed;
}

}  // namespace vitrine::compositor
