#include "vitrine/rdpmux/bus_doorbells.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace vitrine::rdpmux {

Result<BusDoorbells> BusDoorbells::create_eventfds(std::uint32_t host_count) {
  if (host_count == 0 || host_count > ringbus::kMaxChannels)
    return fail(Errc::kInvalidArgument, "host doorbell count " + std::to_string(host_count) +
                                            " (1.." + std::to_string(ringbus::kMaxChannels) + ")");
  BusDoorbells out;
  for (std::uint32_t i = 0; i < 1 + host_count; ++i) {
    auto bell = ringbus::EventfdDoorbell::create();
    if (!bell) return std::unexpected(from_bus(bell.error()));
    out.bells_.push_back(std::make_unique<ringbus::EventfdDoorbell>(std::move(*bell)));
  }
  return out;
}

Result<BusDoorbells> BusDoorbells::from_fds(std::vector<ringbus::UniqueFd> fds) {
  BusDoorbells out;
  if (fds.empty()) return out;
  if (fds.size() < 2 || fds.size() > 1 + ringbus::kMaxChannels)
    return fail(Errc::kInvalidArgument, std::to_string(fds.size()) +
                                            " doorbell fds: need none, or 1 guest + 1..256 host");
  for (auto& fd : fds) {
    if (!fd) return fail(Errc::kInvalidArgument, "invalid doorbell fd");
    // The relay's loop and the host's waits expect non-blocking eventfds (EventfdDoorbell).
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0) return std::unexpected(Error::sys("fcntl(F_GETFL) on doorbell fd", errno));
    if ((flags & O_NONBLOCK) == 0 && ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0)
      return std::unexpected(Error::sys("fcntl(F_SETFL) on doorbell fd", errno));
    out.bells_.push_back(std::make_unique<ringbus::EventfdDoorbell>(std::move(fd)));
  }
  return out;
}

std::vector<int> BusDoorbells::fds() const {
  std::vector<int> out;
  for (const auto& b : bells_) out.push_back(b->fd());
  return out;
}

Result<std::vector<ringbus::UniqueFd>> BusDoorbells::dup_fds() const {
  std::vector<ringbus::UniqueFd> out;
  for (const auto& b : bells_) {
    const int fd = ::fcntl(b->fd(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return std::unexpected(Error::sys("dup doorbell fd", errno));
    out.emplace_back(fd);
  }
  return out;
}

ringbus::EventfdDoorbell* BusDoorbells::guest() const { return bells_.empty() ? nullptr : bells_[0].get(); }

ringbus::EventfdDoorbell* BusDoorbells::host(std::uint32_t channel) const {
  if (bells_.empty()) return nullptr;
  if (bells_.size() == 2) return bells_[1].get();
  return channel + 1 < bells_.size() ? bells_[channel + 1].get() : nullptr;
}

BusDoorbells BusDoorbells::ring_only(std::unique_ptr<ringbus::Doorbell> host) {
  BusDoorbells b;
  b.host_ringer_ = std::move(host);
  return b;
}

Result<void> BusDoorbells::apply(ringbus::Bus& bus) const {
  const std::uint32_t n = bus.channel_count();
  if (host_ringer_) {
    if (bus.side() != ringbus::Side::kGuest)
      return fail(Errc::kInvalidArgument, "a ring-only doorbell is for the guest side of a bus");
    for (std::uint32_t i = 0; i < n; ++i) bus.channel(i).set_doorbells(nullptr, host_ringer_.get());
    return {};
  }
  if (!bells_.empty() && host_count() != 1 && host_count() != n)
    return fail(Errc::kInvalidArgument, std::to_string(host_count()) + " host doorbells for " +
                                            std::to_string(n) + " channels (need 1 or " +
                                            std::to_string(n) + ")");
  for (std::uint32_t i = 0; i < n; ++i) {
    ringbus::Doorbell* g = guest();
    ringbus::Doorbell* h = host(i);
    if (bus.side() == ringbus::Side::kHost)
      bus.channel(i).set_doorbells(h, g);
    else
      bus.channel(i).set_doorbells(g, h);
  }
  return {};
}

}  // namespace vitrine::rdpmux
