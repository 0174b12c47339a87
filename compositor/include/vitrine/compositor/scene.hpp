// The window model: every window's description, icon, visible region and the stacking order.
// Pure data and validation; Compositor forwards each change to the backend. One owner thread.
//
// Limits (bad input is refused with an Error and counted, never trusted):
//   at most kMaxWindows windows; width/height in 1..kMaxWindowSize; x/y within
//   +-kMaxCoordinate; icons up to kMaxIconSize square; titles cut at kMaxTitleBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "vitrine/compositor/error.hpp"
#include "vitrine/compositor/window.hpp"

namespace vitrine::compositor {

class Scene {
 public:
  static constexpr std::size_t kMaxWindows = 1024;
  static constexpr std::int32_t kMaxWindowSize = 16384;
  static constexpr std::int32_t kMaxCoordinate = 1 << 24;
  static constexpr std::int32_t kMaxIconSize = 512;
  static constexpr std::size_t kMaxTitleBytes = 1024;

  // Validates a rectangle in desktop coordinates against the limits above.
  static Result<void> check_rect(const DesktopRect& rect);

  Result<Window*> create(WindowId id, const WindowDesc& desc);
  Result<void> destroy(WindowId id);
  Result<void> set_rect(WindowId id, const DesktopRect& rect);
  Result<void> set_title(WindowId id, std::string_view title);
  Result<void> set_icon(WindowId id, Icon icon);
  Result<void> set_state(WindowId id, WindowState state);
  Result<void> set_owner(WindowId id, WindowId owner);
  Result<void> set_visible(WindowId id, bool visible);
  // `region` in window coordinates; clipped to the window.
  Result<void> set_visible_region(WindowId id, const WindowRegion& region);
  // New stacking order, topmost first (RAIL's order). Listed windows go on top in that order;
  // unknown ids are counted and skipped; unlisted windows keep their order below them.
  void set_z_order(std::span<const WindowId> top_to_bottom);
  // Moves one window to the top.
  Result<void> raise(WindowId id);

  [[nodiscard]] Window* find(WindowId id);
  [[nodiscard]] const Window* find(WindowId id) const;
  [[nodiscard]] std::size_t size() const { return windows_.size(); }
  // Bottom to top.
  [[nodiscard]] std::span<const WindowId> stacking() const { return stacking_; }
  [[nodiscard]] std::uint64_t refused() const { return refused_; }

 private:
  Result<Window*> lookup(WindowId id);
  template <typename T>
  T refuse(T error) {
    ++refused_;
    return error;
  }

  std::unordered_map<WindowId, std::unique_ptr<Window>> windows_;
  std::vector<WindowId> stacking_;  // bottom to top
  std::uint64_t refused_ = 0;
};

}  // namespace vitrine::compositor
