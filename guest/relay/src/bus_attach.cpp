#include "vitrine/relay/bus_attach.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>

#include "vitrine/ringbus/handoff.hpp"

namespace vitrine::relay {
namespace {

namespace fs = std::filesystem;
using rdpmux::Errc;

std::string read_word(const fs::path& p) {
  std::ifstream in(p);
  std::string w;
  in >> w;
  return w;
}

Result<rdpmux::BusDoorbells> doorbells_from(const std::vector<int>& fds) {
  std::vector<ringbus::UniqueFd> owned;
  for (int fd : fds) owned.emplace_back(fd);
  return rdpmux::BusDoorbells::from_fds(std::move(owned));
}

Result<std::unique_ptr<AttachedBus>> make(ringbus::Result<ringbus::Bus> bus, rdpmux::BusDoorbells doorbells,
                                          std::string description) {
  if (!bus) return std::unexpected(rdpmux::from_bus(bus.error()));
  auto out = std::unique_ptr<AttachedBus>(
      new AttachedBus{nullptr, std::move(*bus), std::move(doorbells), std::move(description)});
  return out;
}

}  // namespace

Result<std::vector<int>> parse_fd_list(const std::string& text) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    const std::size_t end = std::min(text.find(',', pos), text.size());
    int v = -1;
    const char* b = text.data() + pos;
    const char* e = text.data() + end;
    auto [ptr, ec] = std::from_chars(b, e, v);
    if (ec != std::errc{} || ptr != e || v < 0)
      return rdpmux::fail(Errc::kInvalidArgument, "bad fd list '" + text + "' (expected N,N,...)");
    out.push_back(v);
    pos = end + 1;
  }
  return out;
}

Result<std::vector<IvshmemDevice>> find_ivshmem_devices(const std::string& sysfs_root) {
  std::vector<IvshmemDevice> out;
  const fs::path dir = fs::path(sysfs_root) / "bus/pci/devices";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path dev = entry.path();
    if (read_word(dev / "vendor") != "0x1af4" || read_word(dev / "device") != "0x1110") continue;
    const fs::path bar = dev / "resource2";
    struct stat st {};
    if (::stat(bar.c_str(), &st) != 0 || st.st_size <= 0) continue;  // ivshmem without shared memory
    out.push_back({dev.filename().string(), bar.string(), static_cast<std::uint64_t>(st.st_size)});
  }
  if (ec) return rdpmux::fail(Errc::kSystem, "reading " + dir.string() + ": " + ec.message(), ec.value());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.bdf < b.bdf; });
  return out;
}

Result<std::unique_ptr<AttachedBus>> attach_inherited(int bus_fd, const std::vector<int>& doorbell_fds) {
  auto bells = doorbells_from(doorbell_fds);
  ringbus::UniqueFd fd(bus_fd);
  if (!bells) return std::unexpected(bells.error());
  return make(ringbus::Bus::attach_fd(std::move(fd), ringbus::Side::kGuest), std::move(*bells),
              "inherited fd " + std::to_string(bus_fd));
}

Result<std::unique_ptr<AttachedBus>> attach_handoff(int socket_fd, std::chrono::milliseconds timeout) {
  auto h = ringbus::receive_handoff(socket_fd, timeout);
  if (!h) return std::unexpected(rdpmux::from_bus(h.error()));
  auto bells = rdpmux::BusDoorbells::from_fds(std::move(h->doorbells));
  if (!bells) return std::unexpected(bells.error());
  return make(ringbus::Bus::attach_fd(std::move(h->region), ringbus::Side::kGuest), std::move(*bells),
              "handoff on fd " + std::to_string(socket_fd));
}

Result<std::unique_ptr<AttachedBus>> attach_file(const std::string& path, const std::vector<int>& doorbell_fds) {
  auto bells = doorbells_from(doorbell_fds);
  if (!bells) return std::unexpected(bells.error());
  return make(ringbus::Bus::attach_path(path, ringbus::Side::kGuest), std::move(*bells), path);
}

Result<std::unique_ptr<AttachedBus>> attach_ivshmem(const std::string& sysfs_root, const std::string& bdf) {
  auto devices = find_ivshmem_devices(sysfs_root);
  if (!devices) return std::unexpected(devices.error());
  for (const auto& d : *devices) {
    if (!bdf.empty() && d.bdf != bdf) continue;
    auto dev = ringbus::IvshmemGuestDevice::open((std::filesystem::path(sysfs_root) / "bus/pci/devices").string(), d.bdf);
    if (!dev) return std::unexpected(rdpmux::from_bus(dev.error()));
    auto device = std::make_unique<ringbus::IvshmemGuestDevice>(std::move(*dev));
    auto bus = ringbus::Bus::attach_mapping(device->shared_memory(), device->shared_size(), ringbus::Side::kGuest);
    if (!bus) return std::unexpected(rdpmux::from_bus(bus.error()));
    // IVPosition >= 0: a doorbell server assigned us a peer id, so a Doorbell write reaches the
    // host's eventfd (ivshmem-doorbell, vitrine-kvm). -1 (ivshmem-plain) or no BAR0: poll.
    const std::int32_t id = device->own_id();
    auto doorbells = id >= 0 ? rdpmux::BusDoorbells::ring_only(std::make_unique<ringbus::IvshmemHostDoorbell>(*device))
                             : rdpmux::BusDoorbells{};
    auto out = std::unique_ptr<AttachedBus>(new AttachedBus{
        std::move(device), std::move(*bus), std::move(doorbells),
        "ivshmem " + d.bdf + " (" + std::to_string(d.size) + " bytes, " +
            (id >= 0 ? "rings the host as peer " + std::to_string(id) : std::string("polling, no doorbell")) + ")"});
    return out;
  }
  return rdpmux::fail(Errc::kInvalidArgument,
                      bdf.empty() ? "no ivshmem device (1af4:1110) under " + sysfs_root + "/bus/pci/devices"
                                  : "no ivshmem device " + bdf + " under " + sysfs_root + "/bus/pci/devices");
}

}  // namespace vitrine::relay
