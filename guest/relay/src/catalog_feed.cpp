#include "vitrine/relay/catalog_feed.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "vitrine/base/log.hpp"
#include "vitrine/catalog/catalog_publisher.hpp"

// Lines say "catalogue: ..."; the sink adds the program's name ("vitrine-guest warn: ...").
namespace vitrine::relay {
namespace {

void signal_fd(int fd) {
  const std::uint64_t one = 1;
  // An eventfd write fails only when the counter would overflow: it is readable then anyway.
  [[maybe_unused]] const auto n = ::write(fd, &one, sizeof one);
}

void drain_fd(int fd) {
  std::uint64_t value = 0;
  [[maybe_unused]] const auto n = ::read(fd, &value, sizeof value);
}

}  // namespace

CatalogFeed::CatalogFeed(catalog::ScanOptions options, std::size_t max_record, std::chrono::milliseconds settle,
                         ringbus::UniqueFd ready, ringbus::UniqueFd wake)
    : options_(std::move(options)),
      max_record_(max_record),
      settle_(settle),
      ready_(std::move(ready)),
      wake_(std::move(wake)) {}

rdpmux::Result<std::unique_ptr<CatalogFeed>> CatalogFeed::start(catalog::ScanOptions options, std::size_t max_record,
                                                                std::chrono::milliseconds settle) {
  ringbus::UniqueFd ready(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!ready) return std::unexpected(rdpmux::Error::sys("eventfd for the catalogue", errno));
  ringbus::UniqueFd wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake) return std::unexpected(rdpmux::Error::sys("eventfd for the catalogue", errno));
  std::unique_ptr<CatalogFeed> feed(
      new CatalogFeed(std::move(options), max_record, settle, std::move(ready), std::move(wake)));
  feed->thread_ = std::thread([f = feed.get()] { f->run(); });
  return feed;
}

CatalogFeed::~CatalogFeed() {
  stop_.store(true, std::memory_order_relaxed);
  signal_fd(wake_.get());
  if (thread_.joinable()) thread_.join();
}

void CatalogFeed::request_snapshot() {
  {
    std::lock_guard lock(mutex_);
    snapshot_wanted_ = true;
  }
  signal_fd(wake_.get());
}

std::optional<CatalogFeed::Batch> CatalogFeed::take() {
  drain_fd(ready_.get());
  std::lock_guard lock(mutex_);
  std::optional<Batch> out = std::move(outbox_);
  outbox_.reset();
  return out;
}

void CatalogFeed::publish(Batch batch) {
  {
    std::lock_guard lock(mutex_);
    outbox_ = std::move(batch);  // a whole catalogue: an older one not yet taken is obsolete
  }
  batches_.fetch_add(1, std::memory_order_relaxed);
  signal_fd(ready_.get());
}

void CatalogFeed::run() {
  auto created = catalog::CatalogPublisher::create(options_, max_record_);
  if (!created) {
    base::log_error("catalogue: not published: {}", catalog::to_string(created.error()));
    return;
  }
  catalog::CatalogPublisher& pub = **created;
  base::log_info("catalogue: {} applications, {} files left out", pub.apps().size(), pub.skipped().size());
  for (const auto& why : pub.skipped()) base::log_debug("catalogue: left out: {}", why);

  auto produce = [&](const char* why) {
    auto records = pub.snapshot();
    if (!records) {
      base::log_error("catalogue: {}: {}", why, catalog::to_string(records.error()));
      return;
    }
    publish(Batch{pub.generation(), pub.apps().size(), std::move(*records)});
  };

  while (!stop_.load(std::memory_order_relaxed)) {
    pollfd fds[2] = {{pub.fd(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      base::log_error("catalogue: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents & POLLIN) drain_fd(wake_.get());
    if (stop_.load(std::memory_order_relaxed)) break;
    if (fds[0].revents & POLLIN) {
      auto changed = pub.refresh(settle_);
      if (!changed) {
        base::log_warn("catalogue: watching failed: {}", catalog::to_string(changed.error()));
        // Do not spin on a broken inotify fd: the catalogue still answers requests.
        std::this_thread::sleep_for(std::chrono::seconds(1));
      } else if (changed->has_value()) {
        base::log_info("catalogue: generation {}: {} applications", pub.generation(), pub.apps().size());
        publish(Batch{pub.generation(), pub.apps().size(), std::move(**changed)});
      }
    }
    bool wanted = false;
    {
      std::lock_guard lock(mutex_);
      wanted = std::exchange(snapshot_wanted_, false);
    }
    if (wanted) produce("snapshot");
  }
}

}  // namespace vitrine::relay
