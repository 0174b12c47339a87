#include "vitrine/catalog/icon_loader.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "vitrine/catalog/png_image.hpp"

namespace vitrine::catalog {
namespace fs = std::filesystem;

namespace {

// Sizes present in Debian's hicolor index.theme; "scalable" is tried after all of them.
constexpr int kSizes[] = {16, 22, 24, 32, 36, 48, 64, 72, 96, 128, 192, 256, 512};

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

Result<fs::path> find_icon(std::string_view icon, const std::vector<fs::path>& data_dirs, int size) {
  if (icon.empty()) return fail(Errc::kNotFound, "no Icon= key");
  if (icon.front() == '/') {
    if (is_file(fs::path(icon))) return fs::path(icon);
    return fail(Errc::kNotFound, fmt::format("icon file {} does not exist", icon));
  }
  if (icon.find('/') != std::string_view::npos || icon == "." || icon == "..")
    return fail(Errc::kNotFound, fmt::format("icon name '{}' contains a path separator", icon));

  std::vector<int> order(std::begin(kSizes), std::end(kSizes));
  // Nearest size first; on a tie the larger one (downscaling looks better than upscaling).
  std::stable_sort(order.begin(), order.end(), [size](int a, int b) {
    int da = std::abs(a - size), db = std::abs(b - size);
    return da != db ? da < db : a > b;
  });
  const std::string name(icon);
  for (const fs::path& dir : data_dirs) {
    for (int s : order) {
      fs::path base = dir / "icons" / "hicolor" / fmt::format("{}x{}", s, s) / "apps";
      for (const char* ext : {".png", ".xpm"})
        if (fs::path p = base / (name + ext); is_file(p)) return p;
    }
    if (fs::path p = dir / "icons" / "hicolor" / "scalable" / "apps" / (name + ".svg"); is_file(p)) return p;
  }
  for (const fs::path& dir : data_dirs)
    for (const char* ext : {".png", ".xpm", ".svg"})
      if (fs::path p = dir / "pixmaps" / (name + ext); is_file(p)) return p;
  return fail(Errc::kNotFound, fmt::format("icon '{}' not found in hicolor or pixmaps of {} data dirs", icon,
                                           data_dirs.size()));
}

Result<std::vector<std::byte>> load_icon_png(const fs::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".svg" || ext == ".svgz")
    return fail(Errc::kUnsupported, fmt::format("{}: SVG icons are not rasterised (no SVG renderer in the guest agent)",
                                                file.string()));
  if (ext == ".xpm")
    return fail(Errc::kUnsupported, fmt::format("{}: XPM icons are not converted; install a PNG icon in hicolor",
                                                file.string()));
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec) return std::unexpected(Error::sys(fmt::format("stat {}", file.string()), ec.value()));
  if (size > kMaxIconFileBytes)
    return fail(Errc::kTooLarge, fmt::format("{}: {} bytes, icons are limited to {}", file.string(), size,
                                             kMaxIconFileBytes));
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(Errc::kSystem, fmt::format("cannot open {}", file.string()));
  std::vector<std::byte> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::size_t>(in.gcount()) != size)
    return fail(Errc::kTruncated, fmt::format("{}: short read", file.string()));
  auto image = decode_png(bytes);
  if (!image) {
    Error e = image.error();
    e.message = fmt::format("{}: {}", file.string(), e.message);
    return std::unexpected(std::move(e));
  }
  return encode_png(*image);
}

}  // namespace vitrine::catalog
