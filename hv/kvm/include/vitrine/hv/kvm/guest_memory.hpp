// Guest RAM: one memfd (so another process could map it, and /proc shows its name), mapped
// MAP_SHARED into this process and handed to KVM as slot 0 at GPA 0. Accessors check every
// GPA range against the size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vitrine/hv/kvm/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::hv::kvm {

class GuestMemory {
 public:
  static Result<GuestMemory> create(std::uint64_t bytes);
  GuestMemory(GuestMemory&& other) noexcept;
  GuestMemory& operator=(GuestMemory&&) = delete;
  ~GuestMemory();

  std::span<std::byte> bytes() const { return {base_, size_}; }
  std::uint64_t size() const { return size_; }
  int fd() const { return fd_.get(); }
  // Copies `data` to GPA `gpa`; error if [gpa, gpa + size) is not inside RAM.
  Result<void> write(std::uint64_t gpa, std::span<const std::byte> data);

 private:
  GuestMemory(ringbus::UniqueFd fd, std::byte* base, std::uint64_t size) : fd_(std::move(fd)), base_(base), size_(size) {}
  ringbus::UniqueFd fd_;
  std::byte* base_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace vitrine::hv::kvm
