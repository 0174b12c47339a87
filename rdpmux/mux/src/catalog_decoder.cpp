#include "vitrine/rdpmux/mux/catalog_decoder.hpp"

namespace vitrine::rdpmux {

CatalogDecoder::CatalogDecoder(Done done) : done_(std::move(done)), thread_([this] { loop(); }) {}

CatalogDecoder::~CatalogDecoder() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void CatalogDecoder::submit(catalog::CatalogReassembler::Blob blob) {
  {
    std::lock_guard lock(mutex_);
    if (pending_) ++replaced_;
    pending_ = std::move(blob);
  }
  cv_.notify_all();
}

std::uint64_t CatalogDecoder::replaced() const {
  std::lock_guard lock(mutex_);
  return replaced_;
}

void CatalogDecoder::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || pending_; });
    if (stop_) return;
    catalog::CatalogReassembler::Blob blob = std::move(*pending_);
    pending_.reset();
    lock.unlock();
    auto decoded = catalog::CatalogReassembler::decode_blob(blob);
    done_(blob.generation, std::move(decoded));
    lock.lock();
  }
}

}  // namespace vitrine::rdpmux
