// The guest image for QEMU tests and bench_vm: Debian's kernel + a busybox initramfs with
// hv_bus_echo as the guest program, built (or found in the cache) by hv/image/build-initramfs.sh.
#pragma once

#include <filesystem>
#include <string>

namespace vitrine::hv::test {

struct GuestImage {
  std::filesystem::path kernel;
  std::filesystem::path initramfs;
  std::string error;  // why there is none (no apt, no network, script failure)
  explicit operator bool() const { return error.empty(); }
};

// Runs the image builder (cached under `cache_dir`); its progress goes to `log`.
GuestImage build_guest_image(const std::filesystem::path& cache_dir, const std::string& init_cmd,
                             const std::filesystem::path& log);

// Whether qemu-system-x86_64 is on PATH.
bool have_qemu();

}  // namespace vitrine::hv::test
