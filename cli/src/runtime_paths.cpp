#include "runtime_paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace vitrine::cli {
namespace fs = std::filesystem;

bool valid_instance_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

std::expected<void, std::string> ensure_private_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return std::unexpected(fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno)));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0)
    return std::unexpected(fmt::format("cannot stat {}: {}", dir.string(), std::strerror(errno)));
  if (!S_ISDIR(st.st_mode))
    return std::unexpected(fmt::format("{} is not a folder; remove it and retry", dir.string()));
  if (st.st_uid != ::geteuid())
    return std::unexpected(fmt::format("{} belongs to uid {}, not to you (uid {}); set XDG_RUNTIME_DIR to a folder "
                                       "of yours", dir.string(), st.st_uid, ::geteuid()));
  if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0)
    return std::unexpected(fmt::format("{} is accessible to others and chmod 0700 failed: {}", dir.string(),
                                       std::strerror(errno)));
  return {};
}

}  // namespace

std::expected<fs::path, std::string> runtime_dir() {
  fs::path base;
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x && x[0] == '/') {
    base = x;
  } else {
    base = fmt::format("/tmp/vitrine-{}", ::geteuid());
    if (auto r = ensure_private_dir(base); !r) return std::unexpected(r.error());
  }
  fs::path dir = base / "vitrine";
  if (auto r = ensure_private_dir(dir); !r) return std::unexpected(r.error());
  return dir;
}

std::expected<fs::path, std::string> launcher_socket_path(std::string_view instance) {
  if (!valid_instance_name(instance))
    return std::unexpected(fmt::format("invalid instance name '{}': use 1-64 of A-Z a-z 0-9 . _ -", instance));
  auto dir = runtime_dir();
  if (!dir) return std::unexpected(dir.error());
  fs::path p = *dir / (std::string(instance) + ".sock");
  if (p.native().size() >= 108)
    return std::unexpected(fmt::format("socket path {} is longer than a Unix socket allows (107 bytes); "
                                       "set a shorter XDG_RUNTIME_DIR", p.string()));
  return p;
}

}  // namespace vitrine::cli
