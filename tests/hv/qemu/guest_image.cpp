#include "guest_image.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>

namespace vitrine::hv::test {

// Runs the image builder's command line `cmd` (its output redirected to `log`) and reads the
// image's paths from the log's "IMAGE <dir>" line.
GuestImage run_image_builder(const std::string& cmd, const std::filesystem::path& log);

GuestImage build_guest_image(const std::filesystem::path& cache_dir, const std::string& init_cmd,
                             const std::filesystem::path& log) {
  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  std::filesystem::create_directories(log.parent_path(), ec);
  const std::string cmd = std::string("'") + HV_IMAGE_SCRIPT + "' --out '" + cache_dir.string() + "' --add '" +
                          HV_ECHO_PATH + ":/bin/hv_bus_echo' --init-cmd '" + init_cmd + "' > '" + log.string() +
                          "' 2>&1";
  return run_image_builder(cmd, log);
}

namespace {

// A single-quoted shell word (paths come from the build tree; quote anyway).
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'' ? std::string("'\\''") : std::string(1, c));
  return out + "'";
}

}  // namespace

std::expected<std::vector<std::string>, std::string> shared_libraries(const std::filesystem::path& program) {
  const std::string cmd = "ldd " + quoted(program.string()) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  if (!pipe) return std::unexpected("cannot run ldd");
  std::vector<std::string> libs;
  std::string text;
  char line[1024];
  while (std::fgets(line, sizeof line, pipe.get()) != nullptr) {
    const std::string l(line);
    text += l;
    // "\tlibx.so.1 => /lib/x86_64-linux-gnu/libx.so.1 (0x...)", "\t/lib64/ld-linux-x86-64.so.2 (0x...)",
    // "\tlinux-vdso.so.1 (0x...)" (no file), "\tlibx.so.1 => not found".
    if (l.find("not found") != std::string::npos) return std::unexpected("ldd " + program.string() + ": " + l);
    const auto arrow = l.find("=> ");
    const auto start = arrow != std::string::npos ? arrow + 3 : l.find_first_not_of(" \t");
    if (start == std::string::npos || l[start] != '/') continue;
    libs.push_back(l.substr(start, l.find(' ', start) - start));
  }
  const int status = ::pclose(pipe.release());
  if (status != 0 || libs.empty()) return std::unexpected("ldd " + program.string() + " failed: " + text);
  return libs;
}

GuestImage build_guest_image_with_libs(const std::filesystem::path& cache_dir,
                                       const std::vector<GuestProgram>& programs, const std::string& init_cmd,
                                       const std::filesystem::path& log, const std::vector<GuestProgram>& data) {
  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  std::filesystem::create_directories(log.parent_path(), ec);
  std::string cmd = quoted(HV_IMAGE_SCRIPT) + " --out " + quoted(cache_dir.string());
  std::set<std::string> libs;
  for (const GuestProgram& p : programs) {
    auto found = shared_libraries(p.source);
    if (!found) return GuestImage{{}, {}, found.error()};
    libs.insert(found->begin(), found->end());
    cmd += " --add " + quoted(p.source.string() + ":" + p.dest);
  }
  for (const std::string& lib : libs) cmd += " --add " + quoted(lib + ":" + lib);
  for (const GuestProgram& d : data) cmd += " --add " + quoted(d.source.string() + ":" + d.dest);
  cmd += " --init-cmd " + quoted(init_cmd) + " > " + quoted(log.string()) + " 2>&1";
  return run_image_builder(cmd, log);
}

GuestImage run_image_builder(const std::string& cmd, const std::filesystem::path& log) {
  GuestImage img;
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
  std::error_code ec;
  std::filesystem::remove(log, ec);
  if (rc != 0 || img.kernel.empty()) img.error = "image builder failed (rc " + std::to_string(rc) + "):\n" + all;
  return img;
}

bool have_qemu() { return std::system("command -v qemu-system-x86_64 > /dev/null 2>&1") == 0; }

}  // namespace vitrine::hv::test
