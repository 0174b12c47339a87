// Parsing of XDG desktop entries (freedesktop.org Desktop Entry Specification 1.5). The Exec
// key's quoting and field codes are the catalogue's (vitrine/rdpmux/catalog_exec.hpp). Only the [Desktop Entry] group is read; other groups (actions) are skipped.
// Localised keys (Name[de]) are ignored: the catalogue publishes the unlocalised strings.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/rdpmux/catalog_error.hpp"
#include "vitrine/rdpmux/catalog_exec.hpp"

namespace vitrine::catalog {

inline constexpr std::size_t kMaxDesktopFileBytes = 256 * 1024;

struct DesktopEntry {
  std::string type;       // "Application", "Link", "Directory"
  std::string name;
  std::string generic_name;
  std::string comment;
  std::string exec;       // string value after spec escapes (\s \n \t \r \\), before Exec quoting
  std::string try_exec;
  std::string icon;       // an icon name or an absolute path
  std::string path;       // working directory
  std::vector<std::string> categories;
  std::vector<std::string> only_show_in;
  std::vector<std::string> not_show_in;
  bool no_display = false;
  bool hidden = false;
  bool terminal = false;
};

// Parses the text of a .desktop file. Errors: kMalformed (no [Desktop Entry] group, a line
// that is neither comment, group nor key=value, a bad escape, a non-boolean boolean),
// kTooLarge (over kMaxDesktopFileBytes). `origin` names the file in messages.
Result<DesktopEntry> parse_desktop_entry(std::string_view text, std::string_view origin);

}  // namespace vitrine::catalog
