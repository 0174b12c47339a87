#include "guest_image.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace vitrine::hv::test {

GuestImage build_guest_image(const std::filesystem::path& cache_dir, const std::string& init_cmd,
                             const std::filesystem::path& log) {
  GuestImage img;
  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  std::filesystem::create_directories(log.parent_path(), ec);
  const std::string cmd = std::string("'") + HV_IMAGE_SCRIPT + "' --out '" + cache_dir.string() + "' --add '" +
                          HV_ECHO_PATH + ":/bin/hv_bus_echo' --init-cmd '" + init_cmd + "' > '" + log.string() +
                          "' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(log);
  std::string line, last, all;
  while (std::getline(in, line)) {
    all += line + "\n";
    if (line.starts_with("IMAGE ")) {
      img.kernel = std::filesystem::path(line.substr(6)) / "vmlinuz";
      img.initramfs = std::filesystem::path(line.substr(6)) / "initramfs.img";
    }
  }
  std::filesystem::remove(log, ec);
  if (rc != 0 || img.kernel.empty()) img.error = "image builder failed (rc " + std::to_string(rc) + "):\n" + all;
  return img;
}

bool have_qemu() { return std::system("command -v qemu-system-x86_64 > /dev/null 2>&1") == 0; }

}  // namespace vitrine::hv::test
