// CatalogFeed: vitrine-guest's application catalogue (guest/catalog CatalogPublisher), produced
// on a thread of its own so that scanning folders and converting icons to PNG never stall the
// relay's data path. The relay's loop only moves finished records into the control ring.
//
//   catalogue thread:  CatalogPublisher::create (first scan)
//                      loop: poll(inotify fd, wake fd)
//                            change    -> refresh() (settles 100 ms)  -> new generation batch
//                            requested -> snapshot()                  -> batch
//   relay thread:      poll(ready_fd()) readable -> take() -> try_send each record as
//                      kMsgCatalogFragment while the control ring has room
//
// Only the newest batch is kept: each is a whole catalogue, so one that replaces an older batch
// not yet taken (or not yet fully sent: the new one starts at offset 0, which makes the host
// drop the incomplete one) loses nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "vitrine/catalog/desktop_scanner.hpp"
#include "vitrine/rdpmux/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::relay {

class CatalogFeed {
 public:
  struct Batch {
    std::uint32_t generation = 0;
    std::size_t apps = 0;
    std::vector<std::vector<std::byte>> records;  // CatalogFragment payloads, in order
  };

  // Starts the catalogue thread, which scans `options.data_dirs` (their applications/ folders)
  // and watches them. `max_record`: the largest fragment record to produce (header included;
  // clamped to rdpmux::kMaxCatalogFragmentBytes). A scan or watch failure is logged by the
  // thread; the feed then produces nothing. kSystem when the thread's eventfds cannot be made.
  static rdpmux::Result<std::unique_ptr<CatalogFeed>> start(catalog::ScanOptions options, std::size_t max_record,
                                                            std::chrono::milliseconds settle = std::chrono::milliseconds(100));
  ~CatalogFeed();  // stops and joins the thread
  CatalogFeed(const CatalogFeed&) = delete;
  CatalogFeed& operator=(const CatalogFeed&) = delete;

  // Readable (eventfd) when take() has a batch. For the relay's poll.
  int ready_fd() const { return ready_.get(); }
  // Any thread: the catalogue thread produces a batch of the whole current catalogue.
  void request_snapshot();
  // Relay thread: the newest batch, if any (drains ready_fd()).
  std::optional<Batch> take();

  // Batches produced so far (diagnostics, tests).
  std::uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }

 private:
  CatalogFeed(catalog::ScanOptions options, std::size_t max_record, std::chrono::milliseconds settle,
              ringbus::UniqueFd ready, ringbus::UniqueFd wake);
  void run();
  void publish(Batch batch);

  catalog::ScanOptions options_;
  std::size_t max_record_;
  std::chrono::milliseconds settle_;
  ringbus::UniqueFd ready_;  // catalogue thread -> relay
  ringbus::UniqueFd wake_;   // relay -> catalogue thread (requests, stop)
  std::mutex mutex_;
  std::optional<Batch> outbox_;        // guarded by mutex_
  bool snapshot_wanted_ = false;       // guarded by mutex_
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> batches_{0};
  std::thread thread_;
};

}  // namespace vitrine::relay
