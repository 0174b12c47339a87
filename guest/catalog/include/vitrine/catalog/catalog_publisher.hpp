// Guest side of publishing, in one object for vitrine-guest: scans the data dirs, watches them,
// and produces the catalogue as record payloads ready for channel 0 (catalog_wire.hpp), with a
// generation that grows on every real change. The relay owns the loop and the channel:
//
//   auto pub = CatalogPublisher::create(options, max_record);      // at start
//   send every payload of pub->snapshot() as kMsgCatalogFragment  // after Hello, and on
//                                                                 // kMsgCatalogRequest
//   poll(pub->fd()) readable -> if (auto p = pub->refresh()) send *p   // on changes
//
// Launching is the host's business (launch_argv.hpp + a RemoteApp exec in the RDP session).
// Not thread-safe: one thread (vitrine-guest's catalogue thread, relay/catalog_feed.hpp) calls
// everything.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "vitrine/catalog/catalog_watcher.hpp"
#include "vitrine/rdpmux/catalog_wire.hpp"
#include "vitrine/catalog/desktop_scanner.hpp"

namespace vitrine::catalog {

class CatalogPublisher {
 public:
  using Payloads = std::vector<std::vector<std::byte>>;

  // max_record: the largest record payload to send (> kFragmentHeaderSize; clamped to
  // kMaxFragmentRecordBytes, the host's limit).
  static Result<std::unique_ptr<CatalogPublisher>> create(ScanOptions options, std::size_t max_record);

  int fd() const { return watcher_.fd(); }
  std::uint32_t generation() const { return catalog_.generation; }
  const std::vector<AppEntry>& apps() const { return catalog_.apps; }
  const std::vector<std::string>& skipped() const { return skipped_; }

  // The current catalogue as fragments (for a host that just said Hello or asked again).
  Result<Payloads> snapshot() const;

  // Drains watcher events and re-scans; returns fragments of the new generation when the
  // catalogue changed, nullopt when it did not. `settle`: keep draining until events stop for
  // this long (a package install writes many files; one re-scan covers them). 0: no wait.
  Result<std::optional<Payloads>> refresh(std::chrono::milliseconds settle = std::chrono::milliseconds(0));

 private:
  CatalogPublisher(ScanOptions options, std::size_t max_record, CatalogWatcher watcher);
  void rescan();

  ScanOptions options_;
  std::size_t max_record_;
  CatalogWatcher watcher_;
  Catalog catalog_;
  std::vector<std::string> skipped_;
};

}  // namespace vitrine::catalog
