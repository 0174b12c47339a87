#include "vitrine/hv/kvm/guest_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <fmt/format.h>
#include <utility>

namespace vitrine::hv::kvm {

Result<GuestMemory> GuestMemory::create(std::uint64_t bytes) {
  if (bytes == 0 || (bytes & 0xfff) != 0) {
    return std::unexpected(invalid(fmt::format("guest RAM of {} bytes is not a positive multiple of 4 KiB", bytes)));
  }
  ringbus::UniqueFd fd(::memfd_create("vitrine-kvm-ram", MFD_CLOEXEC));
  if (!fd) return std::unexpected(sys_error("memfd_create(guest RAM)"));
  if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) return std::unexpected(sys_error("ftruncate(guest RAM)"));
  // MAP_NORESERVE: the guest touches what it uses; untouched RAM costs nothing.
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd.get(), 0);
  if (p == MAP_FAILED) return std::unexpected(sys_error("mmap(guest RAM)"));
  return GuestMemory(std::move(fd), static_cast<std::byte*>(p), bytes);
}

GuestMemory::GuestMemory(GuestMemory&& o) noexcept
    : fd_(std::move(o.fd_)), base_(std::exchange(o.base_, nullptr)), size_(std::exchange(o.size_, 0)) {}

GuestMemory::~GuestMemory() {
  if (base_ != nullptr) ::munmap(base_, size_);
}

Result<void> GuestMemory::write(std::uint64_t gpa, std::span<const std::byte> data) {
  if (gpa > size_ || data.size() > size_ - gpa) {
    return std::unexpected(invalid(fmt::format("{} bytes at GPA {:#x} outside guest RAM of {:#x} bytes", data.size(),
                                               gpa, size_)));
  }
  std::memcpy(base_ + gpa, data.data(), data.size());
  return {};
}

}  // namespace vitrine::hv::kvm
