#include "vitrine/hv/vm_bus.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace vitrine::hv {

Result<ringbus::UniqueFd> dup_fd(int fd) {
  const int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (d < 0) return std::unexpected(Error::sys("dup", errno));
  return ringbus::UniqueFd(d);
}

VmBus::VmBus(ringbus::Bus bus, ringbus::UniqueFd region, std::uint64_t size, ringbus::EventfdDoorbell host,
             ringbus::EventfdDoorbell guest)
    : bus_(std::move(bus)),
      region_(std::move(region)),
      region_size_(size),
      wake_host_(std::make_unique<ringbus::EventfdDoorbell>(std::move(host))),
      wake_guest_(std::make_unique<ringbus::EventfdDoorbell>(std::move(guest))) {
  for (std::uint32_t i = 0; i < bus_.channel_count(); ++i)
    bus_.channel(i).set_doorbells(wake_host_.get(), wake_guest_.get());
}

Result<VmBus> VmBus::create(const VmConfig& config) {
  const ringbus::BusConfig bc = config.bus_config();
  ringbus::UniqueFd memfd(::memfd_create(bc.name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return std::unexpected(Error::sys("memfd_create", errno));
  // Bus::create sizes its memfd to exactly the rings' need; an ivshmem BAR must be a power of
  // two. So format through /proc/self/fd (the same inode), then grow to bus.size and seal.
  auto bus = ringbus::Bus::create_at_path("/proc/self/fd/" + std::to_string(memfd.get()), bc);
  if (!bus) return std::unexpected(from_bus(bus.error()));
  if (::ftruncate(memfd.get(), static_cast<off_t>(config.bus_size)) != 0)
    return std::unexpected(Error::sys("ftruncate bus memfd to bus.size", errno));
  // A peer that shrank the file would turn every access into SIGBUS: forbid it.
  if (::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    return std::unexpected(Error::sys("sealing bus memfd", errno));
  auto host = ringbus::EventfdDoorbell::create();
  if (!host) return std::unexpected(from_bus(host.error()));
  auto guest = ringbus::EventfdDoorbell::create();
  if (!guest) return std::unexpected(from_bus(guest.error()));
  return VmBus(std::move(*bus), std::move(memfd), config.bus_size, std::move(*host), std::move(*guest));
}

Result<BusFds> VmBus::dup_fds() const {
  BusFds f;
  auto r = dup_fd(region_.get());
  if (!r) return std::unexpected(r.error());
  f.region = std::move(*r);
  f.region_size = region_size_;
  auto h = dup_fd(wake_host_->fd());
  if (!h) return std::unexpected(h.error());
  f.wake_host = std::move(*h);
  auto g = dup_fd(wake_guest_->fd());
  if (!g) return std::unexpected(g.error());
  f.wake_guest = std::move(*g);
  return f;
}

}  // namespace vitrine::hv
