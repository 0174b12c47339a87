// Little-endian loads and stores at byte offsets, bounds-checked by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace vitrine::hv::kvm::detail {

template <typename T>
T load_le(std::span<const std::byte> bytes, std::size_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof(T));  // x86-64 only: host is little-endian
  return value;
}

template <typename T>
void store_le(std::span<std::byte> bytes, std::size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

}  // namespace vitrine::hv::kvm::detail
