// One published application: what the guest agent sends to the host (catalog_wire.hpp) and
// what the host's launchers and `vitrine apps` show. Plain data, shared by both sides.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace vitrine::catalog {

struct AppEntry {
  std::string id;                 // stable key: desktop file ID without ".desktop", or .lnk path
  std::string name;               // human-readable name (Name=, or the shortcut's file name)
  std::string comment;            // one line of description, may be empty
  std::vector<std::string> exec;  // command template: argv with desktop-entry field codes
  std::string working_dir;        // empty: the guest's default
  std::string icon_name;          // Icon= as written (name or path), for diagnostics
  std::vector<std::byte> icon_png;// icon as RGBA8 PNG, empty when none could be loaded
  bool terminal = false;          // Terminal=true: runs inside a terminal emulator
  std::string source;             // file it came from, for diagnostics

  bool operator==(const AppEntry&) const = default;
};

// Human-readable command line of an entry: argv joined with spaces, field codes kept.
std::string command_line(const AppEntry& app);

}  // namespace vitrine::catalog
