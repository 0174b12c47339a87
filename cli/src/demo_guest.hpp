// The built-in demo guest: a sandbox VM (hv/sandbox) running Xvfb, vitrine-appserver (the
// RemoteApp server for X11 windows) and vitrine-guest (the bus relay, publishing the demo's
// applications from share/vitrine/demo/applications). `vitrine demo` writes its configuration
// next to its logs and runs it like any `vitrine run VM.toml`.
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <vector>

namespace vitrine::cli {

struct DemoGuest {
  std::filesystem::path bin_dir;   // vitrine-vmm, vitrine-sandbox-init, vitrine-guest, vitrine-appserver
  std::filesystem::path apps_dir;  // the .desktop files the guest publishes
  std::string screen = "1280x800x24";
};

// The folder of the running executable (the build's bin/), where the other programs live.
std::filesystem::path self_bin_dir();

// Finds every program and data folder the demo needs; the error names what is missing and the
// Debian package or build target that provides it.
std::expected<DemoGuest, std::string> locate_demo_guest();

// The demo VM's TOML (docs/hv.md) for `guest`.
std::string demo_config_toml(const DemoGuest& guest);

// Writes it to `dir`/demo.toml; value: the file.
std::expected<std::filesystem::path, std::string> write_demo_config(const DemoGuest& guest,
                                                                    const std::filesystem::path& dir);

// Programs the demo opens at start, as RemoteApp programs (the first one is the handshake's).
std::vector<std::string> demo_start_apps();

// The appserver's --app aliases of the demo (ALIAS=COMMAND): fixed, non-overlapping places.
std::vector<std::string> demo_aliases();

}  // namespace vitrine::cli
