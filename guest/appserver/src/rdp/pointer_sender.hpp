// Cursor shapes to the client as pointer updates (MS-RDPBCGR 2.2.9.1.1.4.5 New Pointer):
// 32 bpp XOR mask with alpha plus AND mask; shapes the client has cached are re-selected
// with a Cached Pointer update instead of being sent again.
#pragma once

#include <freerdp/freerdp.h>

#include <cstdint>
#include <vector>

#include "../x11/cursor_watcher.hpp"

namespace vitrine::appserver::rdp {

class PointerSender {
 public:
  // `cache_size`: the client's pointer cache size (PointerCacheSize capability).
  explicit PointerSender(uint32_t cache_size) : cache_size_(cache_size == 0 ? 1 : std::min(cache_size, 32u)) {}
  // Returns false when the connection failed.
  bool send(rdpContext* context, const CursorImage& cursor);
  [[nodiscard]] uint64_t sent_new() const { return sent_new_; }
  [[nodiscard]] uint64_t sent_cached() const { return sent_cached_; }

 private:
  uint32_t cache_size_;
  std::vector<uint64_t> slots_;  // cursor serial per cache index, in use order
  uint64_t sent_new_ = 0;
  uint64_t sent_cached_ = 0;
  uint64_t last_serial_ = 0;
};

}  // namespace vitrine::appserver::rdp
