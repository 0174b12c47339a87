#include "vitrine/catalog/catalog_watcher.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace vitrine::catalog {
namespace fs = std::filesystem;

namespace {
constexpr std::uint32_t kMask = IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
                                IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB | IN_ONLYDIR;
}

CatalogWatcher::CatalogWatcher(ringbus::UniqueFd fd, std::vector<fs::path> roots)
    : fd_(std::move(fd)), roots_(std::move(roots)) {}

Result<CatalogWatcher> CatalogWatcher::create(const std::vector<fs::path>& dirs) {
  ringbus::UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) return std::unexpected(Error::sys("inotify_init1", errno));
  CatalogWatcher w(std::move(fd), dirs);
  for (const fs::path& d : dirs) {
    if (auto r = w.add_tree(d); !r) return std::unexpected(r.error());
  }
  return w;
}

Result<void> CatalogWatcher::add_tree(const fs::path& dir) {
  std::error_code ec;
  auto nearest_existing = [&] {
    fs::path t = dir;
    while (!fs::is_directory(t, ec) && t.has_parent_path() && t != t.parent_path()) t = t.parent_path();
    return t;
  };
  auto add_one = [&](const fs::path& p) -> Result<void> {
    int wd = ::inotify_add_watch(fd_.get(), p.c_str(), kMask);
    if (wd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == EACCES) return {};  // raced away or private
      return std::unexpected(Error::sys(fmt::format("inotify_add_watch {}", p.string()), errno));
    }
    watches_[wd] = p;
    return {};
  };
  // Missing folder: watch the nearest existing ancestor; its IN_CREATE re-arms us. A folder
  // created between the check and the watch would be missed, so look again after watching.
  fs::path target = nearest_existing();
  for (int round = 0; round < 32; ++round) {
    if (auto r = add_one(target); !r) return r;
    if (target == dir) break;
    fs::path again = nearest_existing();
    if (again == target) return {};
    target = again;
  }
  if (target != dir) return {};
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 8) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      if (auto r = add_one(it->path()); !r) return r;
    }
  }
  return {};
}

Result<bool> CatalogWatcher::drain() {
  alignas(inotify_event) char buf[16 * 1024];
  bool changed = false;
  bool rearm = false;
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EAGAIN) break;
      if (errno == EINTR) continue;
      return std::unexpected(Error::sys("read inotify", errno));
    }
    for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      inotify_event ev;
      std::memcpy(&ev, buf + off, sizeof ev);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev.len);
      if (ev.mask & IN_Q_OVERFLOW) {
        changed = rearm = true;
        continue;
      }
      if (ev.mask & IN_IGNORED) {
        watches_.erase(ev.wd);
        continue;
      }
      changed = true;
      // A new folder (or a moved-in one, or a watched parent gaining a child) may hold entries.
      if ((ev.mask & (IN_CREATE | IN_MOVED_TO)) && (ev.mask & IN_ISDIR)) rearm = true;
    }
  }
  if (rearm) {
    for (const fs::path& root : roots_)
      if (auto r = add_tree(root); !r) return std::unexpected(r.error());
  }
  return changed;
}

Result<bool> CatalogWatcher::wait_for_change(std::chrono::milliseconds timeout, std::chrono::milliseconds settle) {
  pollfd pfd{fd_.get(), POLLIN, 0};
  int rc = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (rc < 0) return errno == EINTR ? Result<bool>(false) : std::unexpected(Error::sys("poll inotify", errno));
  if (rc == 0) return false;
  auto changed = drain();
  if (!changed) return changed;
  bool any = *changed;
  for (;;) {
    rc = ::poll(&pfd, 1, static_cast<int>(settle.count()));
    if (rc <= 0) break;
    auto more = drain();
    if (!more) return more;
    any = any || *more;
  }
  return any;
}

}  // namespace vitrine::catalog
