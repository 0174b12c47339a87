// Builds the catalogue of a Linux guest from the .desktop files in its XDG data dirs
// (Desktop Entry Specification "Desktop File ID", Menu Specification's precedence rules).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "vitrine/rdpmux/catalog_entry.hpp"
#include "vitrine/rdpmux/catalog_wire.hpp"

namespace vitrine::catalog {

// The scanners stop at what the host accepts in one catalogue.
inline constexpr std::size_t kMaxCatalogEntries = kMaxApps;

struct ScanOptions {
  // Most important first ($XDG_DATA_HOME, then $XDG_DATA_DIRS): an ID found in an earlier dir
  // hides the same ID in later ones, including when the earlier file says Hidden=true.
  std::vector<std::filesystem::path> data_dirs;
  // When not empty: these folders are scanned instead of DATA/applications of each data dir
  // (Desktop File IDs relative to each; earlier folders win), and data_dirs only serve the
  // icon lookup. For `vitrine-guest --apps-dir`, whose folders need not be named applications.
  std::vector<std::filesystem::path> application_dirs;
  bool load_icons = true;
  int icon_size = 48;
  std::string path_env;  // PATH used for TryExec; empty: the process's PATH
};

struct ScanResult {
  std::vector<AppEntry> apps;        // sorted by id
  std::vector<std::string> skipped;  // one line per file or icon left out, with the reason
};

// $XDG_DATA_HOME (default ~/.local/share) followed by $XDG_DATA_DIRS
// (default /usr/local/share:/usr/share); relative entries are ignored, as the spec says.
std::vector<std::filesystem::path> xdg_data_dirs_from_env();

// The folders scan_desktop_entries() reads (and CatalogPublisher watches), most important first.
std::vector<std::filesystem::path> application_folders(const ScanOptions& options);

// Never fails as a whole: unreadable or malformed files are listed in `skipped`. Entries that
// are not Type=Application, NoDisplay, Hidden, limited by OnlyShowIn, without Exec, or whose
// TryExec is missing are left out (with the reason). At most kMaxCatalogEntries.
ScanResult scan_desktop_entries(const ScanOptions& options);

}  // namespace vitrine::catalog
