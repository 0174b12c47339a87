// fuzz-libs: vitrine_rdpmux_host
// WindowModel against arbitrary order sequences: every input is either applied or refused with
// an Error; the model never crashes, and its invariants hold after every step.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>

#include "fuzz_reader.hpp"
#include "vitrine/rdpmux/host/window_model.hpp"

namespace {

using namespace vitrine::rdpmux::host;

struct Events final : WindowEvents {
  std::set<WindowId> live;
  void window_created(const WindowState& s) override {
    if (!live.insert(s.id).second) std::abort();  // created twice
  }
  void window_changed(const WindowState& s, std::uint32_t) override {
    if (!live.contains(s.id)) std::abort();
  }
  void window_deleted(WindowId id) override {
    if (live.erase(id) != 1) std::abort();
  }
  void z_order_changed(std::span<const WindowId> z) override {
    for (WindowId id : z)
      if (!live.contains(id)) std::abort();
  }
  void active_window_changed(WindowId) override {}
  void notify_icon_changed(const NotifyIconState&) override {}
  void notify_icon_deleted(WindowId, std::uint32_t) override {}
  void local_move_size(const LocalMoveSize&) override {}
};

using vitrine::fuzz::Reader;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Events events;
  WindowModelLimits limits;
  limits.max_windows = 64;
  WindowModel model(events, limits);
  Reader in{data, size};
  while (in.n > 0) {
    const std::uint8_t op = in.u8() % 7;
    WindowOrder o;
    o.id = in.below(16);
    o.fields = in.u32();
    o.owner = in.below(16);
    o.style = in.u32();
    o.ex_style = in.u32();
    o.show = in.u8();
    o.window_offset = {static_cast<std::int32_t>(in.u32()), static_cast<std::int32_t>(in.u32())};
    o.window_width = in.u32();
    o.window_height = in.u32();
    o.client_width = in.u32() % 100000;
    const std::uint8_t title_len = in.u8() % 32;
    for (std::uint8_t i = 0; i < title_len && in.n > 0; ++i) o.title.push_back(static_cast<char>(in.u8()));
    const std::uint8_t rects = in.u8() % 4;
    for (std::uint8_t i = 0; i < rects; ++i)
      o.window_rects.push_back({static_cast<std::int16_t>(in.u32()), static_cast<std::int16_t>(in.u32()),
                                static_cast<std::int16_t>(in.u32()), static_cast<std::int16_t>(in.u32())});
    switch (op) {
      case 0: (void)model.create(o); break;
      case 1: (void)model.update(o); break;
      case 2: (void)model.remove(o.id); break;
      case 3: {
        const std::uint32_t side = in.below(40);
        Icon icon{side, side, std::vector<std::uint8_t>(std::size_t{side} * side * 4)};
        (void)model.set_icon(o.id, (o.fields & 1) != 0, std::move(icon), {in.below(5), in.below(15)});
        break;
      }
      case 4: (void)model.set_cached_icon(o.id, (o.fields & 1) != 0, {in.below(5), in.below(15)}); break;
      case 5: {
        std::vector<WindowId> z;
        const std::uint8_t count = in.u8() % 20;
        for (std::uint8_t i = 0; i < count; ++i) z.push_back(in.below(16));
        (void)model.monitored_desktop(o.owner, std::span<const WindowId>(z));
        break;
      }
      default: model.clear(); break;
    }
    if (model.size() != events.live.size() || model.size() > limits.max_windows) std::abort();
    if (model.z_order().size() != model.size()) std::abort();
  }
  return 0;
}
