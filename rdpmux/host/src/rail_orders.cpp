#include "rail_orders.hpp"

#include "vitrine/base/utf8.hpp"

#include <freerdp/codec/color.h>

namespace vitrine::rdpmux::host::rail {
namespace {

using base::append_utf8;

std::vector<RelativeRect> to_rects(const RECTANGLE_16* rects, UINT32 count) {
  std::vector<RelativeRect> out;
  if (!rects) return out;
  out.reserve(count);
  for (UINT32 i = 0; i < count; ++i)
    out.push_back({rects[i].left, rects[i].top, rects[i].right, rects[i].bottom});
  return out;
}

constexpr std::uint32_t round_up(std::uint32_t v, std::uint32_t to) { return (v + to - 1) / to * to; }

}  // namespace

Result<std::string> to_utf8(const RAIL_UNICODE_STRING& text) {
  std::string out;
  if (text.length == 0) return out;
  if (!text.string || (text.length % 2) != 0)
    return fail(Errc::kProtocol, "RAIL string of " + std::to_string(text.length) + " bytes is not UTF-16");
  const std::size_t units = text.length / 2;
  const auto unit = [&](std::size_t i) {
    return static_cast<char16_t>(text.string[2 * i] | (text.string[2 * i + 1] << 8));
  };
  for (std::size_t i = 0; i < units; ++i) {
    const char16_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units && unit(i + 1) >= 0xDC00 && unit(i + 1) <= 0xDFFF) {
      append_utf8(out, 0x10000 + ((char32_t{u} - 0xD800) << 10) + (char32_t{unit(i + 1)} - 0xDC00));
      ++i;
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      append_utf8(out, 0xFFFD);
    } else if (u == 0 && i + 1 == units) {
      break;  // a trailing NUL some servers include
    } else {
      append_utf8(out, u);
    }
  }
  return out;
}

Result<WindowOrder> to_window_order(const WINDOW_ORDER_INFO& info, const WINDOW_STATE_ORDER& s) {
  WindowOrder o;
  o.id = info.windowId;
  const UINT32 f = info.fieldFlags;
  if (f & WINDOW_ORDER_FIELD_OWNER) {
    o.fields |= WindowOrder::kOwner;
    o.owner = s.ownerWindowId;
  }
  if (f & WINDOW_ORDER_FIELD_STYLE) {
    o.fields |= WindowOrder::kStyle;
    o.style = s.style;
    o.ex_style = s.extendedStyle;
  }
  if (f & WINDOW_ORDER_FIELD_SHOW) {
    o.fields |= WindowOrder::kShow;
    o.show = s.showState;
  }
  if (f & WINDOW_ORDER_FIELD_TITLE) {
    auto title = to_utf8(s.titleInfo);
    if (!title) return std::unexpected(title.error());
    o.fields |= WindowOrder::kTitle;
    o.title = std::move(*title);
  }
  if (f & WINDOW_ORDER_FIELD_CLIENT_AREA_OFFSET) {
    o.fields |= WindowOrder::kClientOffset;
    o.client_offset = {s.clientOffsetX, s.clientOffsetY};
  }
  if (f & WINDOW_ORDER_FIELD_CLIENT_AREA_SIZE) {
    o.fields |= WindowOrder::kClientSize;
    o.client_width = s.clientAreaWidth;
    o.client_height = s.clientAreaHeight;
  }
  if (f & WINDOW_ORDER_FIELD_WND_OFFSET) {
    o.fields |= WindowOrder::kWindowOffset;
    o.window_offset = {s.windowOffsetX, s.windowOffsetY};
  }
  if (f & WINDOW_ORDER_FIELD_WND_SIZE) {
    o.fields |= WindowOrder::kWindowSize;
    o.window_width = s.windowWidth;
    o.window_height = s.windowHeight;
  }
  if (f & WINDOW_ORDER_FIELD_WND_RECTS) {
    o.fields |= WindowOrder::kWindowRects;
    o.window_rects = to_rects(s.windowRects, s.numWindowRects);
  }
  if (f & WINDOW_ORDER_FIELD_VIS_OFFSET) {
    o.fields |= WindowOrder::kVisibleOffset;
    o.visible_offset = {s.visibleOffsetX, s.visibleOffsetY};
  }
  if (f & WINDOW_ORDER_FIELD_VISIBILITY) {
    o.fields |= WindowOrder::kVisibility;
    o.visibility_rects = to_rects(s.visibilityRects, s.numVisibilityRects);
  }
  return o;
}

Result<Icon> decode_icon(const ICON_INFO& in, const WindowModelLimits& limits) {
  if (in.width == 0 || in.height == 0 || in.width > limits.max_icon_extent || in.height > limits.max_icon_extent)
    return fail(Errc::kLimit, "icon of " + std::to_string(in.width) + "x" + std::to_string(in.height) +
                                  " pixels (allowed 1.." + std::to_string(limits.max_icon_extent) + ")");
  // freerdp_image_copy_from_icon_data handles the DIB formats MS-RDPERP uses for icons.
  if (in.bpp != 8 && in.bpp != 16 && in.bpp != 24 && in.bpp != 32)
    return fail(Errc::kProtocol, "icon with " + std::to_string(in.bpp) + " bits per pixel is not supported");
  // DIB rows are padded to 4 bytes; the AND mask is 1 bpp with rows padded to 2 bytes.
  const std::uint64_t color_bytes = std::uint64_t{round_up(in.width * in.bpp, 32) / 8} * in.height;
  const std::uint64_t mask_bytes = std::uint64_t{round_up(in.width, 16) / 8} * in.height;
  if (!in.bitsColor || in.cbBitsColor < color_bytes || in.cbBitsColor > 0xFFFF)
    return fail(Errc::kProtocol, "icon color data of " + std::to_string(in.cbBitsColor) + " bytes, " +
                                     std::to_string(color_bytes) + " needed for " + std::to_string(in.width) +
                                     "x" + std::to_string(in.height) + "x" + std::to_string(in.bpp));
  if (in.cbBitsMask != 0 && (!in.bitsMask || in.cbBitsMask < mask_bytes || in.cbBitsMask > 0xFFFF))
    return fail(Errc::kProtocol, "icon mask of " + std::to_string(in.cbBitsMask) + " bytes, " +
                                     std::to_string(mask_bytes) + " needed");
  if (in.bpp == 8 && (in.cbColorTable == 0 || !in.colorTable || in.cbColorTable > 1024))
    return fail(Errc::kProtocol, "8-bit icon without a valid color table");
  Icon icon;
  icon.width = in.width;
  icon.height = in.height;
  icon.bgra.resize(std::size_t{in.width} * in.height * 4);
  if (!freerdp_image_copy_from_icon_data(icon.bgra.data(), PIXEL_FORMAT_BGRA32, in.width * 4, 0, 0,
                                         static_cast<UINT16>(in.width), static_cast<UINT16>(in.height),
                                         in.bitsColor, static_cast<UINT16>(in.cbBitsColor),
                                         in.cbBitsMask ? in.bitsMask : nullptr,
                                         static_cast<UINT16>(in.cbBitsMask), in.colorTable,
                                         static_cast<UINT16>(in.cbColorTable), in.bpp))
    return fail(Errc::kProtocol, "icon data could not be decoded");
  return icon;
}

Result<NotifyIconOrder> to_notify_icon_order(const WINDOW_ORDER_INFO& info, const NOTIFY_ICON_STATE_ORDER& s,
                                             const WindowModelLimits& limits) {
  NotifyIconOrder o;
  o.window = info.windowId;
  o.icon_id = info.notifyIconId;
  if (info.fieldFlags & WINDOW_ORDER_FIELD_NOTIFY_TIP) {
    auto tip = to_utf8(s.toolTip);
    if (!tip) return std::unexpected(tip.error());
    o.has_tooltip = true;
    o.tooltip = std::move(*tip);
  }
  if (info.fieldFlags & WINDOW_ORDER_FIELD_NOTIFY_STATE) {
    o.has_state = true;
    o.state = s.state;
  }
  if (info.fieldFlags & WINDOW_ORDER_ICON) {
    auto icon = decode_icon(s.icon, limits);
    if (!icon) return std::unexpected(icon.error());
    o.icon = std::make_shared<const Icon>(std::move(*icon));
  }
  return o;
}

}  // namespace vitrine::rdpmux::host::rail
