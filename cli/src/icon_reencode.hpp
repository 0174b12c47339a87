// Icons that the guest publishes end up as files the host's menu and file manager decode with
// whatever PNG library the desktop uses. The guest's bytes never reach those decoders as they
// came: each icon is decoded here (libspng, with limits on size and chunks) and a fresh PNG is
// encoded from the pixels alone, so nothing but RGBA pixels crosses (no text chunks, no ICC
// profiles, no malformed structure aimed at another decoder).
#pragma once

#include <cstddef>
#include <expected>
#include <span>
#include <string>
#include <vector>

namespace vitrine::cli {

struct IconLimits {
  unsigned max_extent = 1024;                 // width and height, pixels
  std::size_t max_png_bytes = 4u << 20;       // what the guest sent
};

// A PNG of the same pixels (8-bit RGBA), or why the guest's PNG was refused.
std::expected<std::vector<std::byte>, std::string> reencode_icon_png(std::span<const std::byte> guest_png,
                                                                     const IconLimits& limits = {});

}  // namespace vitrine::cli
