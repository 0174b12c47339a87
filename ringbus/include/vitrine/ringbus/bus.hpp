// Bus: one shared region holding every channel (layout.hpp), created by the host on a sealed
// memfd, or attached from an fd, a file such as /dev/shm/NAME, or a raw mapping (an ivshmem
// PCI BAR mmapped from /sys/bus/pci/devices/*/resource2 is one).
//
// Attaching validates the whole header (magic, version, checksum, sizes, every ring inside the
// region, no two rings overlapping) and then keeps a private copy of the geometry: nothing the
// peer writes to the header later is ever read again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vitrine/ringbus/channel.hpp"
#include "vitrine/ringbus/error.hpp"
#include "vitrine/ringbus/layout.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::ringbus {

struct ChannelConfig {
  std::uint32_t h2g_log2 = 20;  // 1 MiB host->guest
  std::uint32_t g2h_log2 = 20;  // 1 MiB guest->host
};

struct BusConfig {
  std::vector<ChannelConfig> channels = std::vector<ChannelConfig>(1);  // channel 0: control
  std::string name = "vitrine-bus";  // memfd name (shows in /proc/PID/fd)
  // Bytes of surface pool after the rings (rounded up to a page); 0: no surfaces offered. The
  // surface messages then use the last channel, which needs at least two channels.
  std::uint64_t surface_pool_bytes = 0;

  // `count` channels of the same geometry.
  static BusConfig uniform(std::uint32_t count, std::uint32_t h2g_log2, std::uint32_t g2h_log2);
};

// The validated geometry of a region.
struct BusLayout {
  std::uint64_t region_size = 0;
  std::uint32_t features = 0;
  std::vector<ChannelDesc> channels;
  std::uint64_t surface_pool_offset = 0;  // from region start; 0 with no pool
  std::uint64_t surface_pool_size = 0;    // 0: no surfaces offered
  std::uint32_t surface_channel = 0;      // 0: none
};

// Checks a region image of `size` bytes. Never reads outside [base, base + size).
Result<BusLayout> validate_region(const std::byte* base, std::size_t size);
// Bytes a region of this configuration needs.
Result<std::uint64_t> region_size_for(const BusConfig& config);

class Bus {
 public:
  // Host: a new region on a memfd, sealed against shrinking and growing.
  static Result<Bus> create(const BusConfig& config);
  // Host: a new region in a file (e.g. /dev/shm/NAME for QEMU's memory-backend-file);
  // the file is created or truncated to the region size.
  static Result<Bus> create_at_path(const std::string& path, const BusConfig& config);
  // Either side: an existing region from an fd received from the creator.
  static Result<Bus> attach_fd(UniqueFd fd, Side side);
  // Either side: an existing region in a file (/dev/shm/NAME, or a PCI resource2 file).
  static Result<Bus> attach_path(const std::string& path, Side side);
  // Either side: an existing region already mapped by the caller (not unmapped by the Bus).
  static Result<Bus> attach_mapping(void* base, std::size_t size, Side side);

  Bus(Bus&&) noexcept;
  Bus& operator=(Bus&&) noexcept;
  ~Bus();

  Side side() const { return side_; }
  std::uint32_t channel_count() const { return static_cast<std::uint32_t>(channels_.size()); }
  Channel& channel(std::uint32_t id) { return *channels_.at(id); }
  const BusLayout& layout() const { return layout_; }
  std::byte* base() const { return base_; }
  std::size_t size() const { return size_; }
  // The memfd / file descriptor, or -1 for attach_mapping.
  int fd() const { return fd_.get(); }

  // The surface pool (layout.hpp), empty when the host offers no surfaces. Its bounds come from
  // the header as validated at attach; the bytes inside are the guest's to write at any time.
  [[nodiscard]] bool has_surface_pool() const { return layout_.surface_pool_size != 0; }
  [[nodiscard]] std::uint32_t surface_channel() const { return layout_.surface_channel; }
  [[nodiscard]] std::uint64_t surface_pool_offset() const { return layout_.surface_pool_offset; }
  [[nodiscard]] std::uint64_t surface_pool_size() const { return layout_.surface_pool_size; }
  // `bytes` at pool-relative `offset`, or kInvalidArgument when any of it lies outside the pool.
  // Checked with subtractions only, so a guest offset near 2^64 cannot wrap past the check.
  [[nodiscard]] Result<std::span<std::byte>> surface_bytes(std::uint64_t offset, std::uint64_t bytes) const;

 private:
  Bus() = default;
  static Result<Bus> from_mapping(std::byte* base, std::size_t size, bool owns_mapping, UniqueFd fd,
                                  Side side);
  static void format(std::byte* base, const BusConfig& config, std::uint64_t size);

  Side side_ = Side::kHost;
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  bool owns_mapping_ = false;
  UniqueFd fd_;
  BusLayout layout_;
  std::vector<std::unique_ptr<Channel>> channels_;
};

}  // namespace vitrine::ringbus
