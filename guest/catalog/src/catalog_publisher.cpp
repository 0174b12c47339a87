#include "vitrine/catalog/catalog_publisher.hpp"

#include <fmt/format.h>

namespace vitrine::catalog {

CatalogPublisher::CatalogPublisher(ScanOptions options, std::size_t max_record, CatalogWatcher watcher)
    : options_(std::move(options)), max_record_(max_record), watcher_(std::move(watcher)) {}

Result<std::unique_ptr<CatalogPublisher>> CatalogPublisher::create(ScanOptions options, std::size_t max_record) {
  if (max_record <= kFragmentHeaderSize)
    return fail(Errc::kMalformed, fmt::format("max_record {} leaves no room after the {}-byte fragment header",
                                              max_record, kFragmentHeaderSize));
  auto watcher = CatalogWatcher::create(application_folders(options));
  if (!watcher) return std::unexpected(watcher.error());
  std::unique_ptr<CatalogPublisher> p(new CatalogPublisher(std::move(options), max_record, std::move(*watcher)));
  p->rescan();
  return p;
}

void CatalogPublisher::rescan() {
  ScanResult r = scan_desktop_entries(options_);
  skipped_ = std::move(r.skipped);
  catalog_.apps.clear();
  // One entry that breaks a wire limit (a huge icon, a name that is not UTF-8) would make
  // encode_catalog refuse the whole catalogue: check each alone, drop what does not fit.
  // The whole catalogue must also fit the host's limits: at most kMaxApps applications and
  // kMaxCatalogBlobBytes in all (past that the host refuses all of it). Icons go first when the
  // bytes run out, then applications, in scan order; each one left out is said in skipped_.
  std::size_t blob_bytes = 64;  // the catalogue header, with room to spare
  for (auto& a : r.apps) {
    const std::string source = std::move(a.source);
    a.source.clear();  // guest-local detail, not published
    if (catalog_.apps.size() == kMaxApps) {
      skipped_.push_back(fmt::format("{}: not published: the catalogue holds at most {} applications", source,
                                     kMaxApps));
      continue;
    }
    if (a.icon_png.size() > kMaxIconPngBytes) {
      skipped_.push_back(fmt::format("{}: icon left out: {} bytes as PNG, limit {}", source, a.icon_png.size(),
                                     kMaxIconPngBytes));
      a.icon_png.clear();
    }
    auto one = encode_catalog(Catalog{0, {a}});
    if (!one) {
      skipped_.push_back(fmt::format("{}: not publishable: {}", source, one.error().message));
      continue;
    }
    if (blob_bytes + one->size() > kMaxCatalogBlobBytes && !a.icon_png.empty()) {
      skipped_.push_back(fmt::format("{}: icon left out: the catalogue reached {} bytes", source, blob_bytes));
      a.icon_png.clear();
      one = encode_catalog(Catalog{0, {a}});
    }
    if (!one || blob_bytes + one->size() > kMaxCatalogBlobBytes) {
      skipped_.push_back(fmt::format("{}: not published: the catalogue reached {} bytes", source, blob_bytes));
      continue;
    }
    blob_bytes += one->size();
    catalog_.apps.push_back(std::move(a));
  }
}

Result<CatalogPublisher::Payloads> CatalogPublisher::snapshot() const {
  auto blob = encode_catalog(catalog_);
  if (!blob) return std::unexpected(blob.error());
  return fragment_catalog(*blob, catalog_.generation, max_record_);
}

Result<std::optional<CatalogPublisher::Payloads>> CatalogPublisher::refresh(std::chrono::milliseconds settle) {
  auto changed = watcher_.wait_for_change(std::chrono::milliseconds(0), settle);
  if (!changed) return std::unexpected(changed.error());
  if (!*changed) return std::optional<Payloads>{};
  std::vector<AppEntry> before = catalog_.apps;
  rescan();
  if (catalog_.apps == before) return std::optional<Payloads>{};
  ++catalog_.generation;
  auto snap = snapshot();
  if (!snap) return std::unexpected(snap.error());
  return std::optional<Payloads>(std::move(*snap));
}

}  // namespace vitrine::catalog
