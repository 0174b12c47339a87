// Watches application folders with inotify so that the guest agent re-scans and re-sends the
// catalogue when packages are installed or removed. Events are coalesced: the caller learns
// "something changed", then re-scans (scans are cheap; per-file bookkeeping is not worth it).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <vector>

#include "vitrine/rdpmux/catalog_error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::catalog {

class CatalogWatcher {
 public:
  // Watches each existing dir and its sub-folders (created ones are added as they appear).
  // Dirs that do not exist yet are watched through their nearest existing parent, so that a
  // later `mkdir -p .../applications` is noticed. kSystem when inotify is unavailable.
  static Result<CatalogWatcher> create(const std::vector<std::filesystem::path>& dirs);

  // Readable when events are pending: for the caller's poll loop.
  int fd() const { return fd_.get(); }

  // Waits up to `timeout` for a change, then keeps draining until `settle` passes without one
  // (a package install writes many files). true: something changed; false: timeout.
  Result<bool> wait_for_change(std::chrono::milliseconds timeout,
                               std::chrono::milliseconds settle = std::chrono::milliseconds(100));

  std::size_t watch_count() const { return watches_.size(); }

 private:
  CatalogWatcher(ringbus::UniqueFd fd, std::vector<std::filesystem::path> roots);
  Result<void> add_tree(const std::filesystem::path& dir);
  Result<bool> drain();  // true if any relevant event was read

  ringbus::UniqueFd fd_;
  std::vector<std::filesystem::path> roots_;
  std::map<int, std::filesystem::path> watches_;  // watch descriptor -> folder
};

}  // namespace vitrine::catalog
