#include "vitrine/catalog/lnk_parser.hpp"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "text_encoding.hpp"

namespace vitrine::catalog {
namespace {

using detail::cp1252_to_utf8;
using detail::utf16le_to_utf8;

constexpr std::uint32_t kHeaderSize = 0x4C;
// LinkCLSID 00021401-0000-0000-C000-000000000046 as stored (GUID: first three fields LE).
constexpr std::array<std::uint8_t, 16> kLinkClsid = {0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                     0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
constexpr std::uint32_t kVolumeIdAndLocalBasePath = 1u << 0;
constexpr std::uint32_t kCommonNetworkRelativeLinkAndPathSuffix = 1u << 1;
constexpr std::uint32_t kEnvironmentVariableBlock = 0xA0000001;
constexpr std::uint32_t kEnvironmentVariableBlockSize = 0x314;

std::uint16_t le16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>(std::to_integer<std::uint16_t>(b[at]) |
                                    (std::to_integer<std::uint16_t>(b[at + 1]) << 8));
}
std::uint32_t le32(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint32_t>(le16(b, at)) | (static_cast<std::uint32_t>(le16(b, at + 2)) << 16);
}

// Reads a NUL-terminated string that must end inside `area` (LinkInfo strings, 2.3).
Result<std::span<const std::byte>> c_string(std::span<const std::byte> area, std::size_t offset,
                                            std::size_t unit, std::string_view what) {
  if (offset >= area.size())
    return fail(Errc::kMalformed, fmt::format("{} offset {} outside its {}-byte structure", what, offset, area.size()));
  for (std::size_t i = offset; i + unit <= area.size(); i += unit) {
    bool nul = true;
    for (std::size_t k = 0; k < unit; ++k) nul = nul && area[i + k] == std::byte{0};
    if (nul) return area.subspan(offset, i - offset);
  }
  return fail(Errc::kMalformed, fmt::format("{} at offset {} is not NUL-terminated inside its structure", what, offset));
}

struct LinkInfoResult {
  std::string local_base_path;
  std::string network_path;
};

// MS-SHLLINK 2.3 LinkInfo. `info` is exactly LinkInfoSize bytes.
Result<LinkInfoResult> parse_link_info(std::span<const std::byte> info) {
  if (info.size() < 0x1C) return fail(Errc::kMalformed, fmt::format("LinkInfoSize {} below 28", info.size()));
  const std::uint32_t header_size = le32(info, 4);
  if (header_size < 0x1C || header_size > info.size())
    return fail(Errc::kMalformed, fmt::format("LinkInfoHeaderSize {} (LinkInfoSize {})", header_size, info.size()));
  if (header_size > 0x1C && header_size < 0x24)
    return fail(Errc::kMalformed, fmt::format("LinkInfoHeaderSize {} between 0x1C and 0x24", header_size));
  const std::uint32_t flags = le32(info, 8);
  const std::uint32_t local_off = le32(info, 16);
  const std::uint32_t network_off = le32(info, 20);
  const std::uint32_t suffix_off = le32(info, 24);
  const bool unicode = header_size >= 0x24;
  LinkInfoResult r;

  std::string suffix;
  if (unicode && le32(info, 0x20) != 0) {
    auto s = c_string(info, le32(info, 0x20), 2, "CommonPathSuffixUnicode");
    if (!s) return std::unexpected(s.error());
    suffix = utf16le_to_utf8(*s);
  } else if (suffix_off != 0) {
    auto s = c_string(info, suffix_off, 1, "CommonPathSuffix");
    if (!s) return std::unexpected(s.error());
    suffix = cp1252_to_utf8(*s);
  }

  if (flags & kVolumeIdAndLocalBasePath) {
    if (unicode && le32(info, 0x1C) != 0) {
      auto s = c_string(info, le32(info, 0x1C), 2, "LocalBasePathUnicode");
      if (!s) return std::unexpected(s.error());
      r.local_base_path = utf16le_to_utf8(*s);
    } else {
      auto s = c_string(info, local_off, 1, "LocalBasePath");
      if (!s) return std::unexpected(s.error());
      r.local_base_path = cp1252_to_utf8(*s);
    }
    r.local_base_path += suffix;
  }
  if (flags & kCommonNetworkRelativeLinkAndPathSuffix) {
    // 2.3.2 CommonNetworkRelativeLink: {size, flags, NetNameOffset, DeviceNameOffset, provider}.
    if (network_off >= info.size() || info.size() - network_off < 0x14)
      return fail(Errc::kMalformed, fmt::format("CommonNetworkRelativeLinkOffset {} outside LinkInfo", network_off));
    const std::uint32_t link_size = le32(info, network_off);
    if (link_size < 0x14 || link_size > info.size() - network_off)
      return fail(Errc::kMalformed, fmt::format("CommonNetworkRelativeLinkSize {} at offset {}", link_size, network_off));
    auto link = info.subspan(network_off, link_size);
    const std::uint32_t net_name_off = le32(link, 8);
    std::string net_name;
    if (net_name_off > 0x14 && link_size >= 0x1C && le32(link, 0x14) != 0) {
      auto s = c_string(link, le32(link, 0x14), 2, "NetNameUnicode");
      if (!s) return std::unexpected(s.error());
      net_name = utf16le_to_utf8(*s);
    } else {
      auto s = c_string(link, net_name_off, 1, "NetName");
      if (!s) return std::unexpected(s.error());
      net_name = cp1252_to_utf8(*s);
    }
    r.network_path = suffix.empty() ? net_name : net_name + "\\" + suffix;
  }
  return r;
}

}  // namespace

std::string ShellLink::target() const {
  if (!local_base_path.empty()) return local_base_path;
  if (!network_path.empty()) return network_path;
  if (!environment_target.empty()) return environment_target;
  return relative_path;
}

Result<ShellLink> parse_shell_link(std::span<const std::byte> bytes) {
  if (bytes.size() > kMaxLnkBytes)
    return fail(Errc::kTooLarge, fmt::format("{} bytes, shortcuts are limited to {}", bytes.size(), kMaxLnkBytes));
  if (bytes.size() < kHeaderSize)
    return fail(Errc::kTruncated, fmt::format("{} bytes, the ShellLinkHeader alone is 76", bytes.size()));
  if (le32(bytes, 0) != kHeaderSize)
    return fail(Errc::kMalformed, fmt::format("HeaderSize 0x{:X}, must be 0x4C (not a shell link)", le32(bytes, 0)));
  if (std::memcmp(bytes.data() + 4, kLinkClsid.data(), kLinkClsid.size()) != 0)
    return fail(Errc::kMalformed, "LinkCLSID is not 00021401-0000-0000-C000-000000000046 (not a shell link)");

  ShellLink link;
  link.link_flags = le32(bytes, 0x14);
  link.file_attributes = le32(bytes, 0x18);
  link.icon_index = static_cast<std::int32_t>(le32(bytes, 0x38));
  link.show_command = le32(bytes, 0x3C);
  link.hot_key = le16(bytes, 0x40);
  std::size_t pos = kHeaderSize;
  const std::size_t end = bytes.size();
  auto need = [&](std::size_t n, std::string_view what) -> Result<void> {
    if (end - pos < n)
      return fail(Errc::kTruncated, fmt::format("{} needs {} bytes at offset {}, file has {}", what, n, pos, end));
    return {};
  };

  if (link.link_flags & kLnkHasLinkTargetIdList) {
    if (auto r = need(2, "IDListSize"); !r) return std::unexpected(r.error());
    const std::size_t list_size = le16(bytes, pos);
    pos += 2;
    if (auto r = need(list_size, "LinkTargetIDList"); !r) return std::unexpected(r.error());
    // 2.2.1 IDList: ItemIDs {u16 size incl. itself, data}, ended by a TerminalID of 0.
    std::size_t at = 0;
    auto list = bytes.subspan(pos, list_size);
    bool terminated = false;
    while (at + 2 <= list.size()) {
      const std::size_t item = le16(list, at);
      if (item == 0) {
        terminated = true;
        break;
      }
      if (item < 2 || item > list.size() - at)
        return fail(Errc::kMalformed, fmt::format("ItemIDSize {} at offset {} overruns the IDList", item, pos + at));
      ++link.id_list_items;
      at += item;
    }
    if (!terminated) return fail(Errc::kMalformed, fmt::format("IDList at offset {} has no TerminalID", pos));
    pos += list_size;
  }

  if ((link.link_flags & kLnkHasLinkInfo) && !(link.link_flags & kLnkForceNoLinkInfo)) {
    if (auto r = need(4, "LinkInfoSize"); !r) return std::unexpected(r.error());
    const std::size_t info_size = le32(bytes, pos);
    if (info_size < 4) return fail(Errc::kMalformed, fmt::format("LinkInfoSize {} at offset {}", info_size, pos));
    if (auto r = need(info_size, "LinkInfo"); !r) return std::unexpected(r.error());
    auto info = parse_link_info(bytes.subspan(pos, info_size));
    if (!info) {
      Error e = info.error();
      e.message = fmt::format("LinkInfo at offset {}: {}", pos, e.message);
      return std::unexpected(std::move(e));
    }
    link.local_base_path = std::move(info->local_base_path);
    link.network_path = std::move(info->network_path);
    pos += info_size;
  } else if (link.link_flags & kLnkHasLinkInfo) {
    // ForceNoLinkInfo: the structure is present but must be ignored; still skip it.
    if (auto r = need(4, "LinkInfoSize"); !r) return std::unexpected(r.error());
    const std::size_t info_size = le32(bytes, pos);
    if (info_size < 4) return fail(Errc::kMalformed, fmt::format("LinkInfoSize {} at offset {}", info_size, pos));
    if (auto r = need(info_size, "LinkInfo"); !r) return std::unexpected(r.error());
    pos += info_size;
  }

  // 2.4 StringData: CountCharacters (u16) then that many characters, in this fixed order.
  const bool unicode = link.link_flags & kLnkIsUnicode;
  struct Field {
    std::uint32_t flag;
    std::string* out;
    const char* name;
  };
  const Field fields[] = {{kLnkHasName, &link.name, "NAME_STRING"},
                          {kLnkHasRelativePath, &link.relative_path, "RELATIVE_PATH"},
                          {kLnkHasWorkingDir, &link.working_dir, "WORKING_DIR"},
                          {kLnkHasArguments, &link.arguments, "COMMAND_LINE_ARGUMENTS"},
                          {kLnkHasIconLocation, &link.icon_location, "ICON_LOCATION"}};
  for (const Field& f : fields) {
    if (!(link.link_flags & f.flag)) continue;
    if (auto r = need(2, f.name); !r) return std::unexpected(r.error());
    const std::size_t chars = le16(bytes, pos);
    pos += 2;
    const std::size_t n = chars * (unicode ? 2 : 1);
    if (auto r = need(n, f.name); !r) return std::unexpected(r.error());
    auto s = bytes.subspan(pos, n);
    *f.out = unicode ? utf16le_to_utf8(s) : cp1252_to_utf8(s);
    pos += n;
  }

  // 2.5 ExtraData: blocks until a TerminalBlock (size < 4). A file may also simply end.
  while (end - pos >= 4) {
    const std::size_t block_size = le32(bytes, pos);
    if (block_size < 4) break;
    if (block_size < 8 || block_size > end - pos)
      return fail(Errc::kMalformed, fmt::format("ExtraData block at offset {} has size {} ({} bytes left)", pos,
                                                block_size, end - pos));
    const std::uint32_t signature = le32(bytes, pos + 4);
    if (signature == kEnvironmentVariableBlock) {
      if (block_size != kEnvironmentVariableBlockSize)
        return fail(Errc::kMalformed,
                    fmt::format("EnvironmentVariableDataBlock at offset {} has size {}, must be 0x314", pos, block_size));
      auto block = bytes.subspan(pos, block_size);
      auto wide = c_string(block.subspan(8 + 260, 520), 0, 2, "TargetUnicode");
      if (wide && !wide->empty()) {
        link.environment_target = utf16le_to_utf8(*wide);
      } else {
        auto ansi = c_string(block.subspan(8, 260), 0, 1, "TargetAnsi");
        if (ansi) link.environment_target = cp1252_to_utf8(*ansi);
      }
    }
    pos += block_size;
  }
  return link;
}

}  // namespace vitrine::catalog
