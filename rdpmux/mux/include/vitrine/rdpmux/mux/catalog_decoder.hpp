// Decodes the guest's application catalogue on a thread of its own. The host joins catalogue
// fragments where HostMux delivers them (the UI thread's poll(): a copy per fragment), but a
// whole catalogue is up to 32 MiB and kMaxApps entries with icons: decoding it there would stall
// the UI for as long as the guest likes. A newer blob replaces one still waiting (only the
// latest catalogue matters); the callback runs on the decoder's thread.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "vitrine/rdpmux/catalog_wire.hpp"

namespace vitrine::rdpmux {

class CatalogDecoder {
 public:
  using Done = std::function<void(std::uint32_t generation, catalog::Result<catalog::Catalog> decoded)>;
  explicit CatalogDecoder(Done done);
  ~CatalogDecoder();  // a decode in progress finishes; one still waiting is dropped
  CatalogDecoder(const CatalogDecoder&) = delete;
  CatalogDecoder& operator=(const CatalogDecoder&) = delete;

  // Never blocks on a decode: hands the blob over and returns.
  void submit(catalog::CatalogReassembler::Blob blob);
  std::uint64_t replaced() const;  // blobs dropped because a newer one came first

 private:
  void loop();

  Done done_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<catalog::CatalogReassembler::Blob> pending_;
  bool stop_ = false;
  std::uint64_t replaced_ = 0;
  std::thread thread_;
};

}  // namespace vitrine::rdpmux
