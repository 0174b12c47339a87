#include "desktop_launchers.hpp"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "icon_reencode.hpp"
#include "terminal_text.hpp"
#include "vitrine/rdpmux/catalog_exec.hpp"

namespace vitrine::cli {
namespace fs = std::filesystem;
using catalog::escape_desktop_value;
using catalog::quote_exec_argument;

namespace {

constexpr std::string_view kInstanceKey = "X-Vitrine-Instance=";
constexpr std::size_t kMaxFileName = 255;  // NAME_MAX of Linux file systems

// Writes through a temporary file and rename(), so a menu never sees half an entry.
std::expected<void, std::string> write_file(const fs::path& path, std::string_view data) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return std::unexpected(fmt::format("cannot write {}", tmp.string()));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return std::unexpected(fmt::format("cannot write {}", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return std::unexpected(fmt::format("rename {} -> {}: {}", tmp.string(), path.string(), ec.message()));
  return {};
}

// The instance named in an entry we wrote, or empty.
std::string entry_instance(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with(kInstanceKey)) return line.substr(kInstanceKey.size());
  return {};
}

std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  return out;
}

}  // namespace

std::string launcher_file_id(std::string_view id) {
  std::string out;
  for (unsigned char c : id) {
    // '_' itself is escaped too, so the mapping is injective: "a/" -> "a_2f" and "a_2f" ->
    // "a_5f2f" (with '_' kept, two guest ids could share one file and one would replace the other).
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (ok) out += static_cast<char>(c);
    else out += fmt::format("_{:02x}", c);
  }
  return out;
}

std::string desktop_entry_text(const catalog::AppEntry& app, const LauncherInstallOptions& options,
                               const fs::path& icon_path) {
  // Global options go before the subcommand; "--" keeps an id that starts with '-' an operand.
  std::string exec = quote_exec_argument(options.vitrine_binary.string()) + " --instance " +
                     quote_exec_argument(options.instance) + " launch -- " + quote_exec_argument(app.id);
  std::string text = "[Desktop Entry]\n";
  text += "Type=Application\n";
  // 1.4: the newest version Debian 12's desktop-file-validate (0.26) accepts; nothing here needs 1.5.
  text += "Version=1.4\n";
  text += "Name=" + escape_desktop_value(one_line(app.name)) + "\n";
  std::string comment = one_line(app.comment);
  if (!comment.empty() && comment != one_line(app.name))
    text += "Comment=" + escape_desktop_value(comment) + "\n";
  text += "Exec=" + escape_desktop_value(exec) + "\n";
  text += "TryExec=" + escape_desktop_value(options.vitrine_binary.string()) + "\n";
  if (!icon_path.empty()) text += "Icon=" + escape_desktop_value(icon_path.string()) + "\n";
  text += "Terminal=false\n";
  // The menu's startup notification reaches `vitrine launch` as DESKTOP_STARTUP_ID, and the
  // instance ends it when the application's window comes (startup_notify.hpp).
  text += "StartupNotify=true\n";
  text += "Categories=Utility;\n";
  text += std::string(kInstanceKey) + options.instance + "\n";
  text += "X-Vitrine-App=" + escape_desktop_value(one_line(app.id)) + "\n";
  return text;
}

std::expected<LauncherInstallReport, std::string> install_launchers(const std::vector<catalog::AppEntry>& apps,
                                                                    const LauncherInstallOptions& options) {
  LauncherInstallReport report;
  std::error_code ec;
  fs::path apps_dir = options.data_home / "applications";
  fs::path icon_dir = options.data_home / "vitrine" / "icons" / options.instance;
  fs::create_directories(apps_dir, ec);
  if (ec) return std::unexpected(fmt::format("cannot create {}: {}", apps_dir.string(), ec.message()));
  fs::create_directories(icon_dir, ec);
  if (ec) return std::unexpected(fmt::format("cannot create {}: {}", icon_dir.string(), ec.message()));

  const std::string prefix = "vitrine-" + options.instance + "-";
  std::set<std::string> keep_entries, keep_icons;
  for (const auto& app : apps) {
    std::string fid = launcher_file_id(app.id);
    // The longest name written is the entry's ("<prefix><fid>.desktop.tmp" while writing): an id
    // too long for one file name is skipped with a warning; the other applications still get theirs.
    if (prefix.size() + fid.size() + std::string_view(".desktop.tmp").size() > kMaxFileName) {
      report.warnings.push_back(fmt::format("skipped application {}: its id makes a file name of more than {} bytes",
                                            escape_for_terminal(app.id.substr(0, 64)) + "...", kMaxFileName));
      continue;
    }
    fs::path icon;
    if (!app.icon_png.empty()) {
      icon = icon_dir / (fid + ".png");
      auto clean = reencode_icon_png(app.icon_png);
      auto w = clean ? write_file(icon, std::string_view(reinterpret_cast<const char*>(clean->data()), clean->size()))
                     : std::expected<void, std::string>(std::unexpected("icon of " + escape_for_terminal(app.id) +
                                                                        " refused: " + clean.error()));
      if (!w) {
        report.warnings.push_back(w.error());
        icon.clear();
      } else {
        keep_icons.insert(icon.filename().string());
      }
    }
    fs::path entry = apps_dir / (prefix + fid + ".desktop");
    if (auto w = write_file(entry, desktop_entry_text(app, options, icon)); !w) {
      report.warnings.push_back(w.error());
      continue;
    }
    keep_entries.insert(entry.filename().string());
    report.written.push_back(entry);
  }

  // Stale entries: ours (prefix and marker) but no longer published.
  for (const auto& f : fs::directory_iterator(apps_dir, ec)) {
    std::string name = f.path().filename().string();
    if (!name.starts_with(prefix) || !name.ends_with(".desktop") || keep_entries.contains(name)) continue;
    if (entry_instance(f.path()) != options.instance) continue;
    if (fs::remove(f.path(), ec)) report.removed.push_back(f.path());
  }
  for (const auto& f : fs::directory_iterator(icon_dir, ec)) {
    if (f.path().extension() == ".png" && !keep_icons.contains(f.path().filename().string())) fs::remove(f.path(), ec);
  }
  return report;
}

std::expected<LauncherInstallReport, std::string> uninstall_launchers(const LauncherInstallOptions& options) {
  LauncherInstallReport report;
  std::error_code ec;
  fs::path apps_dir = options.data_home / "applications";
  const std::string prefix = "vitrine-" + options.instance + "-";
  if (fs::is_directory(apps_dir, ec)) {
    for (const auto& f : fs::directory_iterator(apps_dir, ec)) {
      std::string name = f.path().filename().string();
      if (!name.starts_with(prefix) || !name.ends_with(".desktop")) continue;
      if (entry_instance(f.path()) != options.instance) continue;
      if (fs::remove(f.path(), ec)) report.removed.push_back(f.path());
    }
  }
  fs::remove_all(options.data_home / "vitrine" / "icons" / options.instance, ec);
  if (ec) report.warnings.push_back(fmt::format("icons not removed: {}", ec.message()));
  return report;
}

std::expected<fs::path, std::string> default_data_home() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && x[0] == '/') return fs::path(x);
  if (const char* h = std::getenv("HOME"); h && h[0] == '/') return fs::path(h) / ".local" / "share";
  return std::unexpected("neither XDG_DATA_HOME nor HOME is set to an absolute path; set one of them");
}

}  // namespace vitrine::cli
