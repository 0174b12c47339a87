#include "vitrine/catalog/desktop_scanner.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "vitrine/catalog/desktop_entry.hpp"
#include "vitrine/catalog/icon_loader.hpp"

namespace vitrine::catalog {
namespace fs = std::filesystem;

namespace {

void add_env_dirs(std::vector<fs::path>& out, const char* value) {
  std::string_view v(value);
  while (!v.empty()) {
    auto colon = v.find(':');
    std::string_view item = v.substr(0, colon);
    if (!item.empty() && item.front() == '/') out.emplace_back(item);
    if (colon == std::string_view::npos) break;
    v.remove_prefix(colon + 1);
  }
}

bool executable_exists(const std::string& program, const std::string& path_env) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  std::string_view path = path_env;
  while (true) {
    auto colon = path.find(':');
    std::string dir(path.substr(0, colon));
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    path.remove_prefix(colon + 1);
  }
}

struct Candidate {
  fs::path file;
  std::size_t dir_rank;
};

}  // namespace

std::vector<fs::path> application_folders(const ScanOptions& options) {
  if (!options.application_dirs.empty()) return options.application_dirs;
  std::vector<fs::path> out;
  for (const auto& d : options.data_dirs) out.push_back(d / "applications");
  return out;
}

std::vector<fs::path> xdg_data_dirs_from_env() {
  std::vector<fs::path> dirs;
  if (const char* home = std::getenv("XDG_DATA_HOME"); home && home[0] == '/') {
    dirs.emplace_back(home);
  } else if (const char* h = std::getenv("HOME"); h && h[0] == '/') {
    dirs.push_back(fs::path(h) / ".local" / "share");
  }
  const char* sys = std::getenv("XDG_DATA_DIRS");
  add_env_dirs(dirs, sys && sys[0] ? sys : "/usr/local/share:/usr/share");
  return dirs;
}

ScanResult scan_desktop_entries(const ScanOptions& options) {
  ScanResult result;
  std::string path_env = options.path_env;
  if (path_env.empty()) {
    const char* p = std::getenv("PATH");
    path_env = p ? p : "/usr/local/bin:/usr/bin:/bin";
  }

  // Desktop file ID -> the file that wins (first data dir that has it).
  std::map<std::string, Candidate> by_id;
  const std::vector<fs::path> folders = application_folders(options);
  for (std::size_t rank = 0; rank < folders.size(); ++rank) {
    const fs::path& apps_dir = folders[rank];
    std::error_code ec;
    if (!fs::is_directory(apps_dir, ec)) continue;
    fs::recursive_directory_iterator it(apps_dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      result.skipped.push_back(fmt::format("{}: {}", apps_dir.string(), ec.message()));
      continue;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) {
        result.skipped.push_back(fmt::format("{}: {}", apps_dir.string(), ec.message()));
        break;
      }
      // Bound the walk: a symlink loop or a huge tree must not hang the agent.
      if (it.depth() > 8) {
        it.disable_recursion_pending();
        continue;
      }
      const fs::path& p = it->path();
      if (p.extension() != ".desktop" || !it->is_regular_file(ec)) continue;
      // Spec "Desktop File ID": path below applications/ with '/' replaced by '-'.
      std::string id = fs::relative(p, apps_dir, ec).string();
      std::replace(id.begin(), id.end(), '/', '-');
      by_id.try_emplace(id, Candidate{p, rank});
    }
  }

  for (const auto& [id, candidate] : by_id) {
    if (result.apps.size() >= kMaxCatalogEntries) {
      result.skipped.push_back(fmt::format("{}: catalogue limit of {} entries reached", candidate.file.string(),
                                           kMaxCatalogEntries));
      continue;
    }
    const std::string file = candidate.file.string();
    std::error_code ec;
    auto size = fs::file_size(candidate.file, ec);
    if (ec || size > kMaxDesktopFileBytes) {
      result.skipped.push_back(fmt::format("{}: {}", file, ec ? ec.message() : "file too large"));
      continue;
    }
    std::ifstream in(candidate.file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      result.skipped.push_back(fmt::format("{}: cannot read", file));
      continue;
    }
    auto entry = parse_desktop_entry(text.str(), file);
    if (!entry) {
      result.skipped.push_back(entry.error().message);
      continue;
    }
    auto skip = [&](std::string_view why) { result.skipped.push_back(fmt::format("{}: {}", file, why)); };
    if (entry->type != "Application") { skip(fmt::format("Type={} is not Application", entry->type)); continue; }
    if (entry->hidden) { skip("Hidden=true"); continue; }
    if (entry->no_display) { skip("NoDisplay=true"); continue; }
    if (!entry->only_show_in.empty()) { skip("OnlyShowIn limits it to specific desktops"); continue; }
    if (entry->name.empty()) { skip("no Name="); continue; }
    if (entry->exec.empty()) { skip("no Exec="); continue; }
    if (!entry->try_exec.empty() && !executable_exists(entry->try_exec, path_env)) {
      skip(fmt::format("TryExec={} is not installed", entry->try_exec));
      continue;
    }
    auto argv = split_exec(entry->exec);
    if (!argv) { skip(argv.error().message); continue; }

    AppEntry app;
    app.id = id.substr(0, id.size() - std::string_view(".desktop").size());
    app.name = entry->name;
    app.comment = entry->comment.empty() ? entry->generic_name : entry->comment;
    app.exec = std::move(*argv);
    app.working_dir = entry->path;
    app.icon_name = entry->icon;
    app.terminal = entry->terminal;
    app.source = file;
    if (options.load_icons && !entry->icon.empty()) {
      auto icon_file = find_icon(entry->icon, options.data_dirs, options.icon_size);
      auto png = icon_file ? load_icon_png(*icon_file) : Result<std::vector<std::byte>>(std::unexpected(icon_file.error()));
      if (png) app.icon_png = std::move(*png);
      else result.skipped.push_back(fmt::format("{}: icon left out: {}", file, png.error().message));
    }
    result.apps.push_back(std::move(app));
  }
  return result;
}

}  // namespace vitrine::catalog
