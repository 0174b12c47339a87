// Host menu entries for published guest applications (XP Mode put them in the host's Start
// Menu). One XDG desktop entry per application in <data_home>/applications, named
// vitrine-<instance>-<id>.desktop, running `vitrine --instance <instance> launch -- <id>`; its icon
// as a PNG in <data_home>/vitrine/icons/<instance>/. Entries carry X-Vitrine-Instance so that
// stale ones (applications the guest no longer publishes) are found and removed, and nothing
// that Vitrine did not write is ever touched.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <expected>

#include "vitrine/rdpmux/catalog_entry.hpp"

namespace vitrine::cli {

struct LauncherInstallOptions {
  std::filesystem::path data_home;       // $XDG_DATA_HOME or ~/.local/share
  std::string instance = "default";
  std::filesystem::path vitrine_binary;  // absolute path written into Exec=
};

struct LauncherInstallReport {
  std::vector<std::filesystem::path> written;
  std::vector<std::filesystem::path> removed;
  std::vector<std::string> warnings;  // e.g. an icon that could not be written
};

// The text of one desktop entry (Desktop Entry Specification 1.5). `icon_path` empty: no Icon=.
std::string desktop_entry_text(const catalog::AppEntry& app, const LauncherInstallOptions& options,
                               const std::filesystem::path& icon_path);

// File-name-safe form of an application id ([A-Za-z0-9.-], every other byte, '_' included, as
// '_' + two hex digits): injective, so two guest ids never share a file.
std::string launcher_file_id(std::string_view id);

std::expected<LauncherInstallReport, std::string> install_launchers(const std::vector<catalog::AppEntry>& apps,
                                                                    const LauncherInstallOptions& options);

// Removes every entry and icon of the instance.
std::expected<LauncherInstallReport, std::string> uninstall_launchers(const LauncherInstallOptions& options);

// $XDG_DATA_HOME, else $HOME/.local/share.
std::expected<std::filesystem::path, std::string> default_data_home();

}  // namespace vitrine::cli
