// Windows shell link (.lnk) parser, per [MS-SHLLINK] (Shell Link Binary File Format). A Windows
// guest publishes the shortcuts of its all-users Start Menu; this reads what a launcher needs
// (target, arguments, working directory, description, icon location) from the bytes alone,
// bounds-checking every size and offset: the file comes from the untrusted guest.
//
// Layout (MS-SHLLINK 2):
//   ShellLinkHeader (76 bytes, 2.1) | [LinkTargetIDList (2.2)] | [LinkInfo (2.3)]
//   | [StringData (2.4): NAME, RELATIVE_PATH, WORKING_DIR, ARGUMENTS, ICON_LOCATION]
//   | ExtraData (2.5): blocks {u32 size, u32 signature, ...} ending with a size < 4
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "vitrine/rdpmux/catalog_error.hpp"

namespace vitrine::catalog {

inline constexpr std::size_t kMaxLnkBytes = 1u << 20;  // real shortcuts are a few KiB

// LinkFlags (MS-SHLLINK 2.1.1).
inline constexpr std::uint32_t kLnkHasLinkTargetIdList = 1u << 0;
inline constexpr std::uint32_t kLnkHasLinkInfo = 1u << 1;
inline constexpr std::uint32_t kLnkHasName = 1u << 2;
inline constexpr std::uint32_t kLnkHasRelativePath = 1u << 3;
inline constexpr std::uint32_t kLnkHasWorkingDir = 1u << 4;
inline constexpr std::uint32_t kLnkHasArguments = 1u << 5;
inline constexpr std::uint32_t kLnkHasIconLocation = 1u << 6;
inline constexpr std::uint32_t kLnkIsUnicode = 1u << 7;
inline constexpr std::uint32_t kLnkForceNoLinkInfo = 1u << 8;

// Strings are UTF-8 (converted from UTF-16LE, or from the ANSI code page read as Windows-1252).
struct ShellLink {
  std::uint32_t link_flags = 0;
  std::uint32_t file_attributes = 0;
  std::int32_t icon_index = 0;
  std::uint32_t show_command = 1;   // SW_SHOWNORMAL
  std::uint16_t hot_key = 0;
  std::string local_base_path;      // LinkInfo: C:\Program Files\App\app.exe
  std::string network_path;         // LinkInfo: \\server\share (+ common path suffix)
  std::string name;                 // description (NAME_STRING)
  std::string relative_path;
  std::string working_dir;
  std::string arguments;
  std::string icon_location;
  std::string environment_target;  // EnvironmentVariableDataBlock, e.g. %windir%\notepad.exe
  std::size_t id_list_items = 0;    // ItemIDs in LinkTargetIDList (the shell path is not decoded)

  // The best path to run: local base path + suffix, else network path, else the environment
  // target, else the relative path. Empty when the link carries none of them.
  std::string target() const;
};

// kTruncated when a structure runs past the end, kMalformed on a wrong header size/CLSID or an
// inconsistent offset, kTooLarge past kMaxLnkBytes.
Result<ShellLink> parse_shell_link(std::span<const std::byte> bytes);

}  // namespace vitrine::catalog
