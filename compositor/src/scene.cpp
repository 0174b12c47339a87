#include "vitrine/compositor/scene.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace vitrine::compositor {
namespace {

// Cuts at a UTF-8 character boundary so that a long title never ends in half a character.
std::string cut_title(std::string_view title) {
  if (title.size() <= Scene::kMaxTitleBytes) return std::string(title);
  std::size_t n = Scene::kMaxTitleBytes;
  while (n > 0 && (static_cast<unsigned char>(title[n]) & 0xC0u) == 0x80u) --n;
  return std::string(title.substr(0, n));
}

}  // namespace

Result<void> Scene::check_rect(const DesktopRect& r) {
  if (r.width <= 0 || r.height <= 0 || r.width > kMaxWindowSize || r.height > kMaxWindowSize) {
    return fail(Errc::kInvalidArgument, "window size " + std::to_string(r.width) + "x" +
                                            std::to_string(r.height) + " outside 1.." +
                                            std::to_string(kMaxWindowSize));
  }
  if (std::abs(static_cast<std::int64_t>(r.x)) > kMaxCoordinate ||
      std::abs(static_cast<std::int64_t>(r.y)) > kMaxCoordinate) {
    return fail(Errc::kInvalidArgument, "window position " + std::to_string(r.x) + "," +
                                            std::to_string(r.y) + " beyond +-" +
                                            std::to_string(kMaxCoordinate));
  }
  return {};
}

Result<Window*> Scene::lookup(WindowId id) {
  Window* w = find(id);
  if (w == nullptr) return refuse(fail(Errc::kNotFound, "no window " + std::to_string(id)));
  return w;
}

Result<Window*> Scene::create(WindowId id, const WindowDesc& desc) {
  if (id == kNoWindow) return refuse(fail(Errc::kInvalidArgument, "window id 0 is reserved"));
  if (windows_.contains(id)) {
    return refuse(fail(Errc::kAlreadyExists, "window " + std::to_string(id) + " exists"));
  }
  if (windows_.size() >= kMaxWindows) {
    return refuse(fail(Errc::kLimit, "more than " + std::to_string(kMaxWindows) + " windows"));
  }
  if (auto ok = check_rect(desc.rect); !ok) return refuse(std::unexpected(ok.error()));
  if (desc.owner == id) return refuse(fail(Errc::kInvalidArgument, "window owns itself"));
  auto w = std::make_unique<Window>();
  w->id = id;
  w->desc = desc;
  w->desc.title = cut_title(desc.title);
  if (w->desc.owner != kNoWindow && !windows_.contains(w->desc.owner)) {
    ++refused_;  // an unknown owner is dropped, the window itself is fine
    w->desc.owner = kNoWindow;
  }
  w->visible_region = WindowRegion(WindowRect{0, 0, desc.rect.width, desc.rect.height});
  Window* raw = w.get();
  windows_.emplace(id, std::move(w));
  stacking_.push_back(id);
  return raw;
}

Result<void> Scene::destroy(WindowId id) {
  auto it = windows_.find(id);
  if (it == windows_.end()) return refuse(fail(Errc::kNotFound, "no window " + std::to_string(id)));
  windows_.erase(it);
  std::erase(stacking_, id);
  // Windows it owned become unowned rather than dangling.
  for (auto& [_, w] : windows_) {
    if (w->desc.owner == id) w->desc.owner = kNoWindow;
  }
  return {};
}

Result<void> Scene::set_rect(WindowId id, const DesktopRect& rect) {
  auto w = lookup(id);
  if (!w) return std::unexpected(w.error());
  if (auto ok = check_rect(rect); !ok) return refuse(std::unexpected(ok.error()));
  const DesktopRect old = (*w)->desc.rect;
  (*w)->desc.rect = rect;
  // A visible region that covered the whole window keeps covering it after a resize.
  const WindowRegion whole_old(WindowRect{0, 0, old.width, old.height});
  if ((*w)->visible_region == whole_old) {
    (*w)->visible_region = WindowRegion(WindowRect{0, 0, rect.width, rect.height});
  } else {
    (*w)->visible_region.intersect(WindowRect{0, 0, rect.width, rect.height});
  }
  return {};
}

Result<void> Scene::set_title(WindowId id, std::string_view title) {
  auto w = lookup(id);
  if (!w) return std::unexpected(w.error());
  (*w)->desc.title = cut_title(title);
  return {};
}

Result<void> Scene::set_icon(WindowId id, Icon icon) {
  auto w = lookup(id);
  if (!w) return std::unexpected(w.error());
  if (!icon.empty() || icon.width != 0 || icon.height != 0) {
    if (icon.width <= 0 || icon.height <= 0 || icon.width > kMaxIconSize || icon.height > kMaxIconSize ||
        icon.argb.size() != static_cast<std::size_t>(icon.width) * static_cast<std::size_t>(icon.height)) {
      return refuse(fail(Errc::kInvalidArgument,
                         "icon " + std::to_string(icon.width) + "x" + std::to_string(icon.height) + " with " +
                             std::to_string(icon.argb.size()) + " pixels"));
    }
  }
  (*w)->icon = std::move(icon);
  return {};
}

Result<void> Scene::set_state(WindowId id, WindowState state) {
  auto w = lookup(id);
  if (!w) return std::unexpected(w.error());
  if (static_cast<std::uint8_t>(state) > static_cast<std::uint8_t>(WindowState::kFullscreen)) {
    return refuse(fail(Errc::kInvalidArgument, "window state " + std::to_string(static_cast<int>(state))));
  }
  (*w)->desc.state = state;
  return {};
}

Result<void> Scene::set_owner(WindowId id, WindowId owner) {
  auto w = lookup(id);
  if (!w) return std::unexpected(w.error());
  if (owner != kNoWindow) {
    // Refuse cycles: walking up from the new owner must not reach this window.
    const Window* o = find(owner);
    if (o == nullptr) return refuse(fail(Errc::kNotFound, "no owner window " + std::to_string(owner)));
    for (std::size_t depth = 0; o != nullptr; ++depth) {
      if (o->id == id || depth > windows_.size()) {
        return refuse(fail(Errc::kInvalidArgument, "owner chain of " + std::to_string(id) + " has a cycle"));
      }
      o = o->desc.owner == kNoWindow ? nullptr : find(o->desc.owner);
    }
  }
  (*w)->desc.owner = owner;
  return {};
}

Result<void> Scene::set_visible(WindowId id, bool visible) {
  auto w = lookup(id);
  if (!w) return std::unexpected(w.error());
  (*w)->desc.visible = visible;
  return {};
}

Result<void> Scene::set_visible_region(WindowId id, const WindowRegion& region) {
  auto w = lookup(id);
  if (!w) return std::unexpected(w.error());
  WindowRegion clipped = region.copy();
  clipped.intersect(WindowRect{0, 0, (*w)->desc.rect.width, (*w)->desc.rect.height});
  (*w)->visible_region = std::move(clipped);
  return {};
}

void Scene::set_z_order(std::span<const WindowId> top_to_bottom) {
  std::vector<WindowId> listed;
  listed.reserve(top_to_bottom.size());
  for (auto it = top_to_bottom.rbegin(); it != top_to_bottom.rend(); ++it) {
    if (!windows_.contains(*it) || std::find(listed.begin(), listed.end(), *it) != listed.end()) {
      ++refused_;
      continue;
    }
    listed.push_back(*it);  // bottom to top
  }
  std::vector<WindowId> order;
  order.reserve(stacking_.size());
  for (WindowId id : stacking_) {
    if (std::find(listed.begin(), listed.end(), id) == listed.end()) order.push_back(id);
  }
  order.insert(order.end(), listed.begin(), listed.end());
  stacking_ = std::move(order);
}

Result<void> Scene::raise(WindowId id) {
  if (find(id) == nullptr) return refuse(fail(Errc::kNotFound, "no window " + std::to_string(id)));
  std::erase(stacking_, id);
  stacking_.push_back(id);
  return {};
}

Window* Scene::find(WindowId id) {
  auto it = windows_.find(id);
  return it == windows_.end() ? nullptr : it->second.get();
}

const Window* Scene::find(WindowId id) const {
  auto it = windows_.find(id);
  return it == windows_.end() ? nullptr : it->second.get();
}

}  // namespace vitrine::compositor
