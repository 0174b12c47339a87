#include "pointer_sender.hpp"

#include <freerdp/pointer.h>

#include <algorithm>

namespace vitrine::appserver::rdp {
namespace {
// New Pointer updates carry at most 96x96 (larger needs the Large Pointer capability).
constexpr uint32_t kMaxPointer = 96;
}  // namespace

bool PointerSender::send(rdpContext* context, const CursorImage& cursor) {
  if (cursor.serial == last_serial_ && last_serial_ != 0) return true;
  if (cursor.width == 0 || cursor.height == 0 || cursor.argb.size() < size_t{cursor.width} * cursor.height)
    return true;  // nothing drawable
  rdpPointerUpdate* pu = context->update->pointer;
  if (auto it = std::find(slots_.begin(), slots_.end(), cursor.serial); it != slots_.end()) {
    POINTER_CACHED_UPDATE cached{static_cast<UINT32>(it - slots_.begin())};
    last_serial_ = cursor.serial;
    ++sent_cached_;
    return pu->PointerCached(context, &cached);
  }
  uint32_t index = 0;
  if (slots_.size() < cache_size_) {
    index = static_cast<uint32_t>(slots_.size());
    slots_.push_back(cursor.serial);
  } else {
    // Round-robin replacement keyed on the serial: simple and bounded.
    index = static_cast<uint32_t>(sent_new_ % cache_size_);
    slots_[index] = cursor.serial;
  }
  const uint32_t w = std::min(cursor.width, kMaxPointer);
  const uint32_t h = std::min(cursor.height, kMaxPointer);
  // XOR mask: bottom-up BGRA rows. XFixes gives premultiplied ARGB; RDP 32 bpp pointers
  // carry straight alpha, so un-premultiply.
  std::vector<uint8_t> xor_mask(size_t{w} * h * 4);
  const uint32_t and_stride = ((w + 15) / 16) * 2;
  std::vector<uint8_t> and_mask(size_t{and_stride} * h, 0);
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {
      const uint32_t p = cursor.argb[size_t{y} * cursor.width + x];
      const uint32_t a = p >> 24;
      const auto unpremultiply = [a](uint32_t c) -> uint8_t {
        return a == 0 ? 0 : static_cast<uint8_t>(std::min<uint32_t>(255, c * 255 / a));
      };
      uint8_t* d = &xor_mask[(size_t{h - 1 - y} * w + x) * 4];
      d[0] = unpremultiply(p & 0xff);
      d[1] = unpremultiply((p >> 8) & 0xff);
      d[2] = unpremultiply((p >> 16) & 0xff);
      d[3] = static_cast<uint8_t>(a);
    }
  }
  POINTER_NEW_UPDATE pn{};
  pn.xorBpp = 32;
  pn.colorPtrAttr.cacheIndex = index;
  pn.colorPtrAttr.xPos = std::min(cursor.hot_x, w - 1);
  pn.colorPtrAttr.yPos = std::min(cursor.hot_y, h - 1);
  pn.colorPtrAttr.width = w;
  pn.colorPtrAttr.height = h;
  pn.colorPtrAttr.lengthAndMask = static_cast<UINT32>(and_mask.size());
  pn.colorPtrAttr.lengthXorMask = static_cast<UINT32>(xor_mask.size());
  pn.colorPtrAttr.xorMaskData = xor_mask.data();
  pn.colorPtrAttr.andMaskData = and_mask.data();
  last_serial_ = cursor.serial;
  ++sent_new_;
  return pu->PointerNew(context, &pn);
}

}  // namespace vitrine::appserver::rdp
