#include "catalog_command.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "vitrine/base/log.hpp"
#include "vitrine/catalog/catalog_watcher.hpp"
#include "vitrine/catalog/desktop_scanner.hpp"
#include "vitrine/catalog/start_menu_scanner.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::relay {
namespace {

namespace fs = std::filesystem;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

void usage() {
  std::fprintf(stderr,
               "usage: vitrine-guest catalog [DIR...] [--start-menu DIR] [--watch] [--verbose]\n"
               "  Prints what this guest publishes: ID<TAB>NAME<TAB>COMMAND<TAB>ICON, one application per line.\n"
               "  DIR: XDG data dirs to scan (default: $XDG_DATA_HOME and $XDG_DATA_DIRS).\n"
               "  --start-menu DIR: scan Windows .lnk shortcuts under DIR instead (e.g. a mounted guest's\n"
               "                    ProgramData/Microsoft/Windows/Start Menu/Programs).\n"
               "  --watch: keep watching (inotify) and print the catalogue again on every change.\n"
               "  --verbose: list the files and icons that were skipped.\n"
               "examples:\n"
               "  vitrine-guest catalog\n"
               "  vitrine-guest catalog /usr/share --watch\n");
}

// The catalogue goes to stdout (printf: it is the command's output); diagnostics go to the
// project log (stderr, "vitrine-guest <level>: catalog: ..."). The usage text stays on stderr.
void print(const catalog::ScanResult& r, bool verbose) {
  for (const auto& a : r.apps) {
    const std::string icon = a.icon_png.empty() ? "-" : "png:" + std::to_string(a.icon_png.size()) + "B";
    std::printf("%s\t%s\t%s\t%s\n", a.id.c_str(), a.name.c_str(), catalog::command_line(a).c_str(), icon.c_str());
  }
  std::fflush(stdout);
  if (verbose)
    for (const auto& s : r.skipped) base::log_info("catalog: skipped {}", s);
  base::log_info("catalog: {} application(s), {} file(s) or icon(s) skipped{}", r.apps.size(), r.skipped.size(),
                 verbose ? "" : " (--verbose lists them)");
}

}  // namespace

int run_catalog_command(std::span<char* const> args) {
  std::vector<fs::path> dirs;
  std::string start_menu;
  bool watch = false;
  bool verbose = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string a = args[i];
    if (a == "--start-menu") {
      if (i + 1 == args.size()) return usage(), kExitUsage;
      start_menu = args[++i];
    } else if (a == "--watch") {
      watch = true;
    } else if (a == "--verbose" || a == "-v") {
      verbose = true;
    } else if (a == "--help" || a == "-h") {
      usage();
      return kExitOk;
    } else if (!a.empty() && a[0] == '-') {
      usage();
      return kExitUsage;
    } else {
      dirs.emplace_back(a);
    }
  }
  if (dirs.empty() && start_menu.empty()) dirs = catalog::xdg_data_dirs_from_env();
  auto scan = [&] {
    if (!start_menu.empty()) return catalog::scan_start_menu(start_menu);
    catalog::ScanOptions o;
    o.data_dirs = dirs;
    return catalog::scan_desktop_entries(o);
  };
  if (!watch) {
    print(scan(), verbose);
    return kExitOk;
  }
  // Blocked before the watcher exists (no other thread yet): SIGINT/SIGTERM arrive on the fd.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  ringbus::UniqueFd signals(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signals) {
    base::log_error("catalog: signalfd: {}", std::strerror(errno));
    return kExitFailure;
  }
  std::vector<fs::path> watched;
  if (!start_menu.empty()) watched.emplace_back(start_menu);
  for (const auto& d : dirs) watched.push_back(d / "applications");
  auto watcher = catalog::CatalogWatcher::create(watched);
  if (!watcher) {
    base::log_error("catalog: cannot watch: {}", catalog::to_string(watcher.error()));
    return kExitFailure;
  }
  print(scan(), verbose);
  base::log_info("catalog: watching {} folder(s); Ctrl-C stops", watcher->watch_count());
  for (;;) {
    pollfd fds[2] = {{signals.get(), POLLIN, 0}, {watcher->fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[0].revents) {
      signalfd_siginfo info{};
      const int sig = ::read(signals.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)
                          ? static_cast<int>(info.ssi_signo)
                          : 0;
      base::log_info("catalog: stopping on signal {}", sig);
      return kExitInterrupted;
    }
    auto changed = watcher->wait_for_change(std::chrono::milliseconds(0));
    if (!changed) {
      base::log_error("catalog: watch failed: {}", catalog::to_string(changed.error()));
      return kExitFailure;
    }
    if (*changed) {
      std::printf("--- changed\n");
      print(scan(), verbose);
    }
  }
}

}  // namespace vitrine::relay
