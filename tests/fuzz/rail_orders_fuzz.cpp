// fuzz-libs: vitrine_rdpmux_host PkgConfig::FUZZ_FREERDP
// RAIL icon and title decoding (rdpmux/host's rail_orders: FreeRDP parses the wire into
// ICON_INFO / WINDOW_STATE_ORDER, we turn them into WindowModel input) against any geometry,
// bit depth, declared length and bytes. Every buffer is allocated with exactly the length its
// count field declares, as FreeRDP's parser does, so ASan sees any read past what was sent.
// Each input is decoded or refused with an Error; a decoded icon has exactly w*h*4 bytes and a
// decoded title is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../../rdpmux/host/src/rail_orders.hpp"
#include "fuzz_reader.hpp"

namespace {

using namespace vitrine::rdpmux::host;

using vitrine::fuzz::Reader;

BYTE* data_or_null(std::vector<BYTE>& v) { return v.empty() ? nullptr : v.data(); }

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += len;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader in{data, size};
  WindowModelLimits limits;
  limits.max_icon_extent = 64;  // keeps each run fast; the checks are the same at 256

  // An icon: geometry, depth and the three declared lengths come from the input.
  ICON_INFO icon{};
  const std::uint32_t shape = in.u32();
  icon.width = (shape & 0x7F) + ((shape >> 31) != 0 ? 0x10000 : 0);  // now and then far too wide
  icon.height = (shape >> 8) & 0x7F;
  static constexpr std::uint32_t kDepths[] = {1, 4, 8, 15, 16, 24, 32, 0, 64};
  icon.bpp = kDepths[((shape >> 16) & 0xFF) % (sizeof kDepths / sizeof kDepths[0])];
  icon.cbBitsColor = in.u16();
  icon.cbBitsMask = in.u16() & 0x0FFF;
  icon.cbColorTable = in.u16() & 0x07FF;
  auto color = in.bytes<BYTE>(icon.cbBitsColor);
  auto mask = in.bytes<BYTE>(icon.cbBitsMask);
  auto table = in.bytes<BYTE>(icon.cbColorTable);
  icon.bitsColor = data_or_null(color);
  icon.bitsMask = data_or_null(mask);
  icon.colorTable = data_or_null(table);
  if (auto decoded = rail::decode_icon(icon, limits)) {
    if (decoded->width != icon.width || decoded->height != icon.height ||
        decoded->bgra.size() != std::size_t{icon.width} * icon.height * 4)
      std::abort();
  }

  // A window state order with a title and rectangles of declared counts.
  WINDOW_ORDER_INFO info{};
  info.windowId = in.u32();
  info.fieldFlags = in.u32();
  WINDOW_STATE_ORDER state{};
  auto title = in.bytes<BYTE>(in.u16() & 0x1FFF);
  state.titleInfo.length = static_cast<UINT16>(title.size());
  state.titleInfo.string = data_or_null(title);
  state.numWindowRects = in.u16() & 0xFF;
  std::vector<RECTANGLE_16> window_rects(state.numWindowRects);
  for (auto& r : window_rects) r = {in.u16(), in.u16(), in.u16(), in.u16()};
  state.windowRects = window_rects.empty() ? nullptr : window_rects.data();
  state.numVisibilityRects = in.u16() & 0xFF;
  std::vector<RECTANGLE_16> visibility_rects(state.numVisibilityRects);
  for (auto& r : visibility_rects) r = {in.u16(), in.u16(), in.u16(), in.u16()};
  state.visibilityRects = visibility_rects.empty() ? nullptr : visibility_rects.data();
  state.clientOffsetX = static_cast<INT32>(in.u32());
  state.windowWidth = in.u32();
  if (auto order = rail::to_window_order(info, state)) {
    if (!valid_utf8(order->title)) std::abort();
  }
  if (auto text = rail::to_utf8(state.titleInfo)) {
    if (!valid_utf8(*text)) std::abort();
  }
  return 0;
}
