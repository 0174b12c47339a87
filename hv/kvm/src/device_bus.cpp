#include "vitrine/hv/kvm/device_bus.hpp"

#include <cstring>
#include <fmt/format.h>

#include "vitrine/base/log.hpp"

namespace vitrine::hv::kvm {

Result<void> DeviceBus::insert(std::shared_ptr<BusDevice> device, std::uint64_t base, std::uint64_t length) {
  if (length == 0 || base + length < base) {
    return std::unexpected(invalid(fmt::format("{}: bad range {:#x}+{:#x} for {}", name_, base, length, device->name())));
  }
  std::lock_guard guard(map_lock_);
  // The first range starting after `base`, and the one before it, are the only candidates.
  auto next = ranges_.upper_bound(base);
  if (next != ranges_.end() && next->first < base + length) {
    return std::unexpected(invalid(fmt::format("{}: {} at {:#x}+{:#x} overlaps {} at {:#x}+{:#x}", name_,
                                               device->name(), base, length, next->second.device->name(),
                                               next->first, next->second.length)));
  }
  if (next != ranges_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.length > base) {
      return std::unexpected(invalid(fmt::format("{}: {} at {:#x}+{:#x} overlaps {} at {:#x}+{:#x}", name_,
                                                 device->name(), base, length, prev->second.device->name(),
                                                 prev->first, prev->second.length)));
    }
  }
  // Devices that sit on several ranges (PCI BARs) share one lock.
  std::shared_ptr<std::mutex> lock;
  for (auto& [b, e] : ranges_) {
    if (e.device == device) lock = e.lock;
  }
  if (!lock) lock = std::make_shared<std::mutex>();
  ranges_.emplace(base, Entry{length, std::move(device), std::move(lock)});
  return {};
}

bool DeviceBus::remove(std::uint64_t base) {
  std::lock_guard guard(map_lock_);
  return ranges_.erase(base) != 0;
}

const DeviceBus::Entry* DeviceBus::find(std::uint64_t addr, std::size_t size, std::uint64_t* offset) const {
  auto it = ranges_.upper_bound(addr);
  if (it == ranges_.begin()) return nullptr;
  --it;
  const std::uint64_t off = addr - it->first;
  // The whole access must fall inside the range: a 4-byte read straddling two devices is unknown.
  if (off >= it->second.length || size > it->second.length - off) return nullptr;
  *offset = off;
  return &it->second;
}

void DeviceBus::warn_unknown(const char* op, std::uint64_t addr, std::size_t size) {
  const std::uint64_t n = unknown_.fetch_add(1, std::memory_order_relaxed) + 1;
  // A hostile guest can loop over every port: log the first few, then every 4096th.
  if (n <= 16 || (n & 4095) == 0) {
    base::log_warn("{}: guest {} of {} bytes at unknown address {:#x} ({} unknown so far)", name_, op, size,
                   addr, n);
  }
}

bool DeviceBus::read(std::uint64_t addr, std::span<std::uint8_t> data) {
  std::uint64_t offset = 0;
  std::shared_ptr<BusDevice> device;
  std::shared_ptr<std::mutex> lock;
  {
    std::lock_guard guard(map_lock_);
    if (const Entry* e = find(addr, data.size(), &offset)) {
      device = e->device;
      lock = e->lock;
    }
  }
  if (!device) {
    std::memset(data.data(), 0xff, data.size());
    warn_unknown("read", addr, data.size());
    return false;
  }
  std::lock_guard guard(*lock);
  device->read(offset, data);
  return true;
}

bool DeviceBus::write(std::uint64_t addr, std::span<const std::uint8_t> data) {
  std::uint64_t offset = 0;
  std::shared_ptr<BusDevice> device;
  std::shared_ptr<std::mutex> lock;
  {
    std::lock_guard guard(map_lock_);
    if (const Entry* e = find(addr, data.size(), &offset)) {
      device = e->device;
      lock = e->lock;
    }
  }
  if (!device) {
    warn_unknown("write", addr, data.size());
    return false;
  }
  std::lock_guard guard(*lock);
  device->write(offset, data);
  return true;
}

}  // namespace vitrine::hv::kvm
