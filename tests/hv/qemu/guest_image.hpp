// The guest image for QEMU tests and bench_vm: Debian's kernel + a busybox initramfs with
// hv_bus_echo as the guest program, built (or found in the cache) by hv/image/build-initramfs.sh.
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <vector>

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

// A dynamically linked program for the guest: `source` on this machine, `dest` in the guest.
struct GuestProgram {
  std::filesystem::path source;
  std::string dest;  // absolute, e.g. "/bin/vitrine-guest"
};

// Like build_guest_image, for dynamically linked programs (no hv_bus_echo): each program goes to
// its `dest`, and every shared library `ldd` lists for any of them, the ELF interpreter
// included, is copied to the path it has here (/lib/x86_64-linux-gnu/..., /lib64/...), so that
// the guest's loader finds them as this machine's does. The init command should still set
// LD_LIBRARY_PATH=kGuestLibraryPath: the guest has no ld.so.cache.
// `data`: plain files copied as they are, without ldd (an X server's keymaps, say).
GuestImage build_guest_image_with_libs(const std::filesystem::path& cache_dir,
                                       const std::vector<GuestProgram>& programs, const std::string& init_cmd,
                                       const std::filesystem::path& log, const std::vector<GuestProgram>& data = {});
inline constexpr const char* kGuestLibraryPath = "/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu";

// The shared libraries `ldd` resolves for `program` (absolute paths, interpreter included), or
// an error text (not an ELF program, a library not found).
std::expected<std::vector<std::string>, std::string> shared_libraries(const std::filesystem::path& program);

// Whether qemu-system-x86_64 is on PATH.
bool have_qemu();

}  // namespace vitrine::hv::test
