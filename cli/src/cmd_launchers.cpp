// `vitrine install-launchers` / `uninstall-launchers`: host menu entries for guest applications.
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "desktop_launchers.hpp"
#include "exit_codes.hpp"
#include "launcher_protocol.hpp"

namespace vitrine::cli {
namespace fs = std::filesystem;

namespace {

fs::path self_binary() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("vitrine") : p;
}

}  // namespace

void add_launcher_commands(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto data_home = std::make_shared<std::string>();
  auto* install = app.add_subcommand("install-launchers",
                                     "Add the guest's applications to the host's application menu");
  install->add_option("--data-home", *data_home, "Folder holding applications/ (default: $XDG_DATA_HOME or "
                                                 "~/.local/share)");
  install->footer(
      "Writes one desktop entry per published application to DATA_HOME/applications\n"
      "(vitrine-INSTANCE-ID.desktop, running `vitrine launch`) and its icon to\n"
      "DATA_HOME/vitrine/icons/INSTANCE/. Entries of applications the guest no longer\n"
      "publishes are removed. Needs a running instance.\n"
      "Examples:\n"
      "  vitrine install-launchers\n"
      "  vitrine install-launchers --instance work --data-home /tmp/menu\n");
  install->callback([&globals, &exit_code, data_home] {
    LauncherInstallOptions options;
    options.instance = globals.instance;
    options.vitrine_binary = self_binary();
    if (data_home->empty()) {
      auto d = default_data_home();
      if (!d) {
        spdlog::error("{}", d.error());
        exit_code = kExitFailure;
        return;
      }
      options.data_home = *d;
    } else {
      options.data_home = *data_home;
    }
    auto reply = instance_request(globals, {"apps"});
    if (!reply) {
      exit_code = reply.error();
      return;
    }
    if (!reply->ok) {
      spdlog::error("{}", reply->message);
      exit_code = kExitFailure;
      return;
    }
    std::vector<catalog::AppEntry> apps;
    for (const auto& l : reply->data) {
      if (l.size() < 5 || l[0] != "app") continue;
      catalog::AppEntry a;
      a.id = l[1];
      a.name = l[2];
      a.exec = {l[3]};
      auto png = base64_decode(l[4]);
      if (png && !png->empty()) {  // an empty icon field means "no icon"
        a.icon_png.resize(png->size());
        std::memcpy(a.icon_png.data(), png->data(), png->size());
      } else if (!png) {
        spdlog::warn("{}: icon dropped: {}", a.id, png.error());
      }
      apps.push_back(std::move(a));
    }
    auto report = install_launchers(apps, options);
    if (!report) {
      spdlog::error("{}", report.error());
      exit_code = kExitFailure;
      return;
    }
    for (const auto& w : report->warnings) spdlog::warn("{}", w);
    for (const auto& p : report->written) spdlog::debug("wrote {}", p.string());
    for (const auto& p : report->removed) spdlog::info("removed stale {}", p.string());
    fmt::print("installed {} launcher(s) in {}, removed {} stale\n", report->written.size(),
               (options.data_home / "applications").string(), report->removed.size());
    exit_code = kExitOk;
  });

  auto* uninstall = app.add_subcommand("uninstall-launchers", "Remove the menu entries written by install-launchers");
  uninstall->add_option("--data-home", *data_home, "Folder holding applications/ (default: $XDG_DATA_HOME or "
                                                   "~/.local/share)");
  uninstall->footer("Does not need a running instance.\nExamples:\n  vitrine uninstall-launchers\n"
                    "  vitrine uninstall-launchers --instance work\n");
  uninstall->callback([&globals, &exit_code, data_home] {
    LauncherInstallOptions options;
    options.instance = globals.instance;
    if (data_home->empty()) {
      auto d = default_data_home();
      if (!d) {
        spdlog::error("{}", d.error());
        exit_code = kExitFailure;
        return;
      }
      options.data_home = *d;
    } else {
      options.data_home = *data_home;
    }
    auto report = uninstall_launchers(options);
    if (!report) {
      spdlog::error("{}", report.error());
      exit_code = kExitFailure;
      return;
    }
    for (const auto& w : report->warnings) spdlog::warn("{}", w);
    fmt::print("removed {} launcher(s) of instance '{}'\n", report->removed.size(), globals.instance);
    exit_code = kExitOk;
  });
}

}  // namespace vitrine::cli
