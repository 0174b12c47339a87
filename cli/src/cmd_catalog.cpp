// `vitrine catalog [DIR...]`: what a guest agent would publish from these data dirs (the
// scanner vitrine-guest uses), optionally watching them until Ctrl-C. A diagnostic for guest
// images: run it inside the guest, or on a copy of its /usr/share.
#include <poll.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "shutdown_signal.hpp"
#include "vitrine/catalog/catalog_watcher.hpp"
#include "vitrine/catalog/desktop_scanner.hpp"
#include "vitrine/catalog/start_menu_scanner.hpp"

namespace vitrine::cli {
namespace fs = std::filesystem;

namespace {

struct CatalogArgs {
  std::vector<std::string> dirs;
  std::string start_menu;
  bool watch = false;
};

void print(const catalog::ScanResult& r) {
  for (const auto& a : r.apps)
    fmt::print("{}\t{}\t{}\t{}\n", a.id, a.name, catalog::command_line(a),
               a.icon_png.empty() ? "-" : fmt::format("png:{}B", a.icon_png.size()));
  for (const auto& s : r.skipped) spdlog::debug("skipped {}", s);
  spdlog::info("{} application(s), {} file(s) or icon(s) skipped (--verbose lists them)", r.apps.size(),
               r.skipped.size());
}

int run_catalog(const CatalogArgs& args) {
  std::vector<fs::path> dirs;
  for (const auto& d : args.dirs) dirs.emplace_back(d);
  if (dirs.empty() && args.start_menu.empty()) dirs = catalog::xdg_data_dirs_from_env();
  auto scan = [&] {
    if (!args.start_menu.empty()) return catalog::scan_start_menu(args.start_menu);
    catalog::ScanOptions o;
    o.data_dirs = dirs;
    return catalog::scan_desktop_entries(o);
  };
  if (!args.watch) {
    print(scan());
    return kExitOk;
  }
  ShutdownSignal signals;  // before the watcher: no thread exists, the mask holds process-wide
  std::vector<fs::path> watched;
  if (!args.start_menu.empty()) watched.emplace_back(args.start_menu);
  for (const auto& d : dirs) watched.push_back(d / "applications");
  auto watcher = catalog::CatalogWatcher::create(watched);
  if (!watcher) {
    spdlog::error("cannot watch: {}", catalog::to_string(watcher.error()));
    return kExitFailure;
  }
  print(scan());
  spdlog::info("watching {} folder(s); Ctrl-C stops", watcher->watch_count());
  for (;;) {
    pollfd fds[2] = {{signals.fd(), POLLIN, 0}, {watcher->fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[0].revents) {
      int sig = signals.poll_signal();
      spdlog::info("stopping on signal {}", sig);
      return kExitInterrupted;
    }
    auto changed = watcher->wait_for_change(std::chrono::milliseconds(0));
    if (!changed) {
      spdlog::error("watch failed: {}", catalog::to_string(changed.error()));
      return kExitFailure;
    }
    if (*changed) {
      fmt::print("--- changed\n");
      print(scan());
      std::fflush(stdout);
    }
  }
}

}  // namespace

void add_catalog_command(CLI::App& app, GlobalOptions&, int& exit_code) {
  auto args = std::make_shared<CatalogArgs>();
  auto* sub = app.add_subcommand("catalog", "Show what a guest agent publishes from XDG data dirs or a Start Menu");
  sub->add_option("dirs", args->dirs, "XDG data dirs to scan (default: $XDG_DATA_HOME and $XDG_DATA_DIRS)");
  sub->add_option("--start-menu", args->start_menu,
                  "Scan Windows .lnk shortcuts under this folder instead (e.g. a mounted guest's "
                  "ProgramData/Microsoft/Windows/Start Menu/Programs)");
  sub->add_flag("--watch", args->watch, "Keep watching (inotify) and print the catalogue again on every change");
  sub->footer(
      "Output: ID<TAB>NAME<TAB>COMMAND<TAB>ICON, one application per line.\n"
      "Examples:\n"
      "  vitrine catalog\n"
      "  vitrine catalog /usr/share --watch\n"
      "  vitrine catalog --start-menu '/mnt/win/ProgramData/Microsoft/Windows/Start Menu/Programs'\n");
  sub->callback([args, &exit_code] { exit_code = run_catalog(*args); });
}

}  // namespace vitrine::cli
