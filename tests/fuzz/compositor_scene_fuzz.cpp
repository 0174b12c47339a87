// fuzz-libs: vitrine_compositor
// Drives the compositor's CPU-side model with arbitrary operations: DamageRegion (pixman)
// arithmetic with extreme coordinates, the rectangle cap, TileHasher filtering, and every
// Scene request (create/move/owner/z-order/icon/title/visible region/destroy). No GL.
// Invariants: filtered damage lies inside the damage and the framebuffer; the scene never
// exceeds its limits and its stacking order lists exactly its windows.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "vitrine/compositor/damage_region.hpp"
#include "vitrine/compositor/scene.hpp"
#include "vitrine/compositor/tile_hasher.hpp"

using namespace vitrine::compositor;

namespace {

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  template <typename T>
  T take() {
    T v{};
    const std::size_t k = n < sizeof(T) ? n : sizeof(T);
    std::memcpy(&v, p, k);
    p += k;
    n -= k;
    return v;
  }
  bool done() const { return n == 0; }
};

DesktopRect rect(Reader& r) {
  return {r.take<std::int32_t>(), r.take<std::int32_t>(), r.take<std::int32_t>(), r.take<std::int32_t>()};
}
DesktopRect small_rect(Reader& r) {
  return {r.take<std::int8_t>() * 4, r.take<std::int8_t>() * 4, r.take<std::uint8_t>(), r.take<std::uint8_t>()};
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader r{data, size};
  constexpr std::int32_t kW = 200, kH = 150;
  std::vector<std::byte> pixels(static_cast<std::size_t>(kW) * kH * 4);
  const PixelSource fb{pixels.data(), kW, kH, static_cast<std::size_t>(kW) * 4};
  DamageRegion region;
  TileHasher hasher;
  Scene scene;
  for (int steps = 0; steps < 256 && !r.done(); ++steps) {
    switch (r.take<std::uint8_t>() % 14) {
      case 0: region.add(rect(r)); break;
      case 1: region.add(small_rect(r)); break;
      case 2: region.subtract(small_rect(r)); break;
      case 3: region.intersect(rect(r)); break;
      case 4: region.cap_rects(r.take<std::uint8_t>()); break;
      case 5: region.translate(r.take<std::int32_t>(), r.take<std::int32_t>()); break;
      case 6: {  // change some pixels, then filter
        const std::size_t at = r.take<std::uint16_t>() % pixels.size();
        pixels[at] = std::byte{r.take<std::uint8_t>()};
        const DamageRegion out = hasher.filter(region, fb);
        DamageRegion outside = out.copy();
        DamageRegion inside = region.copy();
        inside.intersect(fb.bounds());
        outside.subtract(inside);
        check(outside.empty());
        break;
      }
      case 7: {
        WindowDesc d;
        d.rect = rect(r);
        d.owner = r.take<std::uint8_t>() % 8;
        d.kind = static_cast<WindowKind>(r.take<std::uint8_t>() % 4);
        (void)scene.create(r.take<std::uint8_t>() % 16, d);
        break;
      }
      case 8: (void)scene.set_rect(r.take<std::uint8_t>() % 16, rect(r)); break;
      case 9: (void)scene.set_owner(r.take<std::uint8_t>() % 16, r.take<std::uint8_t>() % 16); break;
      case 10: {
        std::vector<WindowId> order(r.take<std::uint8_t>() % 20);
        for (auto& id : order) id = r.take<std::uint8_t>() % 20;
        scene.set_z_order(order);
        break;
      }
      case 11: {
        Icon icon;
        icon.width = r.take<std::int16_t>();
        icon.height = r.take<std::int16_t>();
        icon.argb.resize(r.take<std::uint8_t>());
        (void)scene.set_icon(r.take<std::uint8_t>() % 16, std::move(icon));
        break;
      }
      case 12: {
        std::string title(r.take<std::uint16_t>() % 2048, static_cast<char>(r.take<std::uint8_t>()));
        (void)scene.set_title(r.take<std::uint8_t>() % 16, title);
        WindowRegion vis;
        vis.add(WindowRect{r.take<std::int16_t>(), r.take<std::int16_t>(), r.take<std::int16_t>(), r.take<std::int16_t>()});
        (void)scene.set_visible_region(r.take<std::uint8_t>() % 16, vis);
        break;
      }
      case 13: (void)scene.destroy(r.take<std::uint8_t>() % 16); break;
    }
    check(scene.size() <= Scene::kMaxWindows && scene.stacking().size() == scene.size());
    for (WindowId id : scene.stacking()) {
      const Window* w = scene.find(id);
      check(w != nullptr && !w->desc.rect.empty() && w->desc.title.size() <= Scene::kMaxTitleBytes);
      DamageRegion vis_outside = to_desktop(w->visible_region, w->desc.rect);
      vis_outside.subtract(w->desc.rect);
      check(vis_outside.empty());
    }
  }
  return 0;
}
