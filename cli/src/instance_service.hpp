// What a running instance offers to the launcher socket. `vitrine run` implements it on top of
// the guest's catalogue and the RemoteApp session; tests implement it to drive the socket.
// Called from the launcher socket's worker threads, several at once: implementations are
// thread-safe (a launch that waits for the guest must not hold up apps or stats).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <expected>

#include "vitrine/rdpmux/catalog_entry.hpp"

namespace vitrine::cli {

// What launch() says while the instance is still connecting (`vitrine launch` that started the
// instance waits on it: instance_autostart.cpp).
inline constexpr const char* kStillStarting = "the instance is still starting; try again in a moment";

class InstanceService {
 public:
  virtual ~InstanceService() = default;
  // The applications the guest publishes now.
  virtual std::vector<catalog::AppEntry> apps() = 0;
  // Starts a published application (already resolved by id) with arguments; the value says
  // what started, the error what failed. `startup_id`: the launch's XDG startup notification
  // (empty: none), which the application's first window ends (StartupNotify).
  virtual std::expected<std::string, std::string> launch(const catalog::AppEntry& app,
                                                         const std::vector<std::string>& args,
                                                         const std::string& startup_id) = 0;
  // Live counters: name, value (bus, relay, frames, latency).
  virtual std::vector<std::pair<std::string, std::string>> stats() = 0;
};

// Resolves what the user typed: an exact id, else a case-insensitive name, else the program's
// base name (so `vitrine launch xeyes` finds the entry whose Exec runs xeyes). nullptr if none.
const catalog::AppEntry* find_app(const std::vector<catalog::AppEntry>& apps, std::string_view query);

// "xclock (XClock), xterm (XTerm)" for messages; "(none)" when empty.
std::string published_list(const std::vector<catalog::AppEntry>& apps);

}  // namespace vitrine::cli
