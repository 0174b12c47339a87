#include "vitrine/ringbus/ivshmem_guest.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <thread>
#include <vector>

namespace vitrine::ringbus {
namespace {

using ringbus::Error;
using ringbus::Errc;

std::optional<unsigned long> read_hex(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  if (!(in >> s)) return std::nullopt;
  try {
    return std::stoul(s, nullptr, 16);
  } catch (...) {
    return std::nullopt;
  }
}

ringbus::Result<std::pair<void*, std::size_t>> map_resource(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_SYNC);
  if (fd < 0) return std::unexpected(Error::sys("open " + path, errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
    const int e = errno;
    ::close(fd);
    return std::unexpected(Error::sys("stat " + path, e));
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int e = errno;
  ::close(fd);
  if (p == MAP_FAILED) return std::unexpected(Error::sys("mmap " + path, e));
  return std::pair{p, size};
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

ringbus::Result<IvshmemGuestDevice> IvshmemGuestDevice::open_first(const std::string& root) { return open(root, ""); }

ringbus::Result<IvshmemGuestDevice> IvshmemGuestDevice::open(const std::string& root, const std::string& wanted) {
  DIR* dir = ::opendir(root.c_str());
  if (dir == nullptr) return std::unexpected(Error::sys("opendir " + root, errno));
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (!wanted.empty() && name != wanted) continue;
    const std::string base = root + "/" + name;
    if (read_hex(base + "/vendor") != kIvshmemVendor || read_hex(base + "/device") != kIvshmemDevice)
      continue;
    IvshmemGuestDevice dev;
    dev.address_ = name;
    auto bar2 = map_resource(base + "/resource2");
    if (!bar2) return std::unexpected(bar2.error());
    dev.bar2_ = bar2->first;
    dev.bar2_size_ = bar2->second;
    // BAR0 (registers) is 256 bytes; a missing one only loses the doorbell.
    if (auto bar0 = map_resource(base + "/resource0")) {
      dev.bar0_ = static_cast<volatile std::uint32_t*>(bar0->first);
      dev.bar0_size_ = bar0->second;
    }
    return dev;
  }
  return std::unexpected(Error{Errc::kInvalidArgument, 0,
                               wanted.empty() ? "no ivshmem device (1af4:1110) under " + root
                                              : "no ivshmem device " + wanted + " under " + root});
}

IvshmemGuestDevice::IvshmemGuestDevice(IvshmemGuestDevice&& o) noexcept
    : address_(std::move(o.address_)),
      bar2_(std::exchange(o.bar2_, nullptr)),
      bar2_size_(o.bar2_size_),
      bar0_(std::exchange(o.bar0_, nullptr)),
      bar0_size_(o.bar0_size_) {}

IvshmemGuestDevice::~IvshmemGuestDevice() {
  if (bar2_ != nullptr) ::munmap(bar2_, bar2_size_);
  if (bar0_ != nullptr) ::munmap(const_cast<std::uint32_t*>(bar0_), bar0_size_);
}

std::int32_t IvshmemGuestDevice::own_id() const {
  if (bar0_ == nullptr) return -1;
  return static_cast<std::int32_t>(bar0_[2]);  // IVPosition
}

void IvshmemGuestDevice::ring(std::uint32_t peer, std::uint16_t vector) const {
  // Doorbell register: bits 31..16 peer id, 15..0 vector (ivshmem-spec). A volatile store is
  // one MMIO write; the ring's release store of the tail precedes it in program order and x86
  // keeps stores in order, so the host sees the record when it wakes.
  if (bar0_ != nullptr) bar0_[3] = (peer << 16) | vector;
}

ringbus::Result<ringbus::WakeStatus> IvshmemHostDoorbell::wait(std::chrono::nanoseconds timeout) {
  std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(timeout, std::chrono::microseconds(100)));
  return ringbus::WakeStatus::kWoken;
}

ringbus::Result<ringbus::WakeStatus> IvshmemPollDoorbell::wait(std::chrono::nanoseconds timeout) {
  using namespace std::chrono;
  if (spun_ < spin_) {
    // Spin phase: a burst of pauses, then let the caller re-check its condition.
    const auto start = steady_clock::now();
    for (int i = 0; i < 64; ++i) cpu_relax();
    spun_ += duration_cast<nanoseconds>(steady_clock::now() - start);
    return ringbus::WakeStatus::kWoken;
  }
  step_ = step_ == nanoseconds(0) ? microseconds(1) : std::min(step_ * 2, max_step_);
  const nanoseconds sleep = std::min(step_, timeout);
  std::this_thread::sleep_for(sleep);
  return sleep < step_ ? ringbus::WakeStatus::kTimedOut : ringbus::WakeStatus::kWoken;
}

}  // namespace vitrine::ringbus
