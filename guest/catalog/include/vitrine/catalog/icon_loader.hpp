// Icon lookup (freedesktop.org Icon Theme Specification, reduced to what a published menu
// needs: the hicolor theme and the pixmaps folder) and conversion to RGBA8 PNG.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>
#include <vector>

#include "vitrine/rdpmux/catalog_error.hpp"

namespace vitrine::catalog {

inline constexpr std::size_t kMaxIconFileBytes = 4u << 20;

// Finds the file for an Icon= value. An absolute path is taken as is. A name is looked up in
// <dir>/icons/hicolor/<N>x<N>/apps/<name>.{png,svg,xpm} for every data dir (sizes nearest to
// `size` first; scalable last), then in <dir>/pixmaps/<name>.{png,xpm}. A name with a path
// separator or an extension is not a valid icon name (the spec forbids it) and is kNotFound.
Result<std::filesystem::path> find_icon(std::string_view icon,
                                        const std::vector<std::filesystem::path>& data_dirs, int size = 48);

// Loads an icon file and returns it as an RGBA8 PNG. PNG files are decoded and re-encoded
// (normalising palette/grey/16-bit files and dropping ancillary chunks). SVG and XPM are
// kUnsupported with a reason; larger than kMaxIconFileBytes is kTooLarge.
Result<std::vector<std::byte>> load_icon_png(const std::filesystem::path& file);

}  // namespace vitrine::catalog
