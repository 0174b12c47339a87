// A bus of address ranges (port I/O or MMIO) -> devices (Firecracker's devices/bus.rs).
// Devices see only offsets into their own range. Ranges may not overlap: insert() rejects an
// overlap with an error that names both ranges. An access nobody claims is the guest's
// business: reads return all-ones, writes are dropped, and a rate-limited warning counts them;
// the VMM never crashes on it.
//
// Threading: insert() before the vCPUs start; read()/write() from any vCPU thread. Each device
// is serialized by its own mutex, so a device needs no locking of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "vitrine/hv/kvm/error.hpp"

namespace vitrine::hv::kvm {

class BusDevice {
 public:
  virtual ~BusDevice() = default;
  // `offset` is relative to the range base; data.size() is 1, 2, 4 or 8 (MMIO).
  virtual void read(std::uint64_t offset, std::span<std::uint8_t> data) = 0;
  virtual void write(std::uint64_t offset, std::span<const std::uint8_t> data) = 0;
  virtual std::string name() const = 0;
};

class DeviceBus {
 public:
  explicit DeviceBus(std::string name) : name_(std::move(name)) {}

  Result<void> insert(std::shared_ptr<BusDevice> device, std::uint64_t base, std::uint64_t length);
  // Removes the range that starts exactly at `base`; false if none.
  bool remove(std::uint64_t base);

  // true if a device took the access; false: unknown address (warned, read filled with 0xff).
  bool read(std::uint64_t addr, std::span<std::uint8_t> data);
  bool write(std::uint64_t addr, std::span<const std::uint8_t> data);

  std::uint64_t unknown_accesses() const { return unknown_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    std::uint64_t length;
    std::shared_ptr<BusDevice> device;
    std::shared_ptr<std::mutex> lock;
  };
  const Entry* find(std::uint64_t addr, std::size_t size, std::uint64_t* offset) const;
  void warn_unknown(const char* op, std::uint64_t addr, std::size_t size);

  std::string name_;
  std::map<std::uint64_t, Entry> ranges_;  // base -> entry; written only before vCPUs start
  mutable std::mutex map_lock_;            // guards ranges_ against remapping during a BAR move
  std::atomic<std::uint64_t> unknown_{0};
};

}  // namespace vitrine::hv::kvm
