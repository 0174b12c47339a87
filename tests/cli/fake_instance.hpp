// An InstanceService for tests: a fixed catalogue; launches are recorded, not executed.
#pragma once

#include <functional>
#include <mutex>

#include "instance_service.hpp"

namespace vitrine::test {

class RecordingInstance : public cli::InstanceService {
 public:
  std::vector<catalog::AppEntry> catalogue;
  std::vector<std::pair<std::string, std::vector<std::string>>> launched;
  std::vector<std::string> startup_ids;  // one per launch, "" when none came
  std::mutex mutex;
  // Runs (outside the lock) at the start of every launch: tests make a launch slow with it.
  std::function<void(const catalog::AppEntry&)> on_launch;

  RecordingInstance() {
    catalog::AppEntry xterm;
    xterm.id = "debian-xterm";
    xterm.name = "XTerm";
    xterm.exec = {"xterm"};
    xterm.icon_png = {std::byte{0x89}, std::byte{'P'}, std::byte{'N'}, std::byte{'G'}};
    catalog::AppEntry xclock;
    xclock.id = "xclock";
    xclock.name = "XClock";
    xclock.exec = {"/usr/bin/xclock", "-update", "1"};
    catalogue = {xterm, xclock};
  }
  std::vector<catalog::AppEntry> apps() override {
    std::lock_guard lock(mutex);
    return catalogue;
  }
  std::expected<std::string, std::string> launch(const catalog::AppEntry& app, const std::vector<std::string>& args,
                                                 const std::string& startup_id) override {
    if (on_launch) on_launch(app);
    std::lock_guard lock(mutex);
    startup_ids.push_back(startup_id);
    if (app.id == "xclock" && !args.empty() && args[0] == "--fail") return std::unexpected("exec failed: ENOENT");
    launched.emplace_back(app.id, args);
    return "started " + app.name;
  }
  std::vector<std::pair<std::string, std::string>> stats() override {
    return {{"bus.bytes_to_host", "123"}, {"frames", "4"}};
  }
};

}  // namespace vitrine::test
