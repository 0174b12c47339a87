#include "demo_guest.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace vitrine::cli {

namespace {

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((std::filesystem::path(dir) / program).c_str(), X_OK) == 0) return true;
  return false;
}

// TOML basic string: quotes and backslashes escaped (paths may hold either).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::filesystem::path self_bin_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

std::expected<DemoGuest, std::string> locate_demo_guest() {
  DemoGuest guest;
  guest.bin_dir = self_bin_dir();
  for (const char* program : {"vitrine-vmm", "vitrine-sandbox-init", "vitrine-guest", "vitrine-appserver"}) {
    if (::access((guest.bin_dir / program).c_str(), X_OK) != 0)
      return std::unexpected(std::string(program) + " is missing next to vitrine in " + guest.bin_dir.string() +
                             ": build the whole tree (cmake --build --preset release)");
  }
  struct Need {
    const char* program;
    const char* package;
  };
  for (const Need& n : {Need{"Xvfb", "xvfb"}, Need{"xterm", "xterm"}, Need{"xclock", "x11-apps"}})
    if (!on_path(n.program))
      return std::unexpected(std::string("the demo guest runs ") + n.program + ", which is not installed: apt-get install " +
                             n.package + " (or run scripts/install-deps.sh)");
  // Installed layout: bin/../share/vitrine/demo; build tree: the same under the build folder.
  guest.apps_dir = guest.bin_dir.parent_path() / "share" / "vitrine" / "demo" / "applications";
  if (!std::filesystem::is_directory(guest.apps_dir))
    return std::unexpected("the demo's application folder " + guest.apps_dir.string() +
                           " is missing: reconfigure the build (cmake copies cli/demo there)");
  return guest;
}

std::string demo_config_toml(const DemoGuest& guest) {
  const auto bin = [&](const char* name) { return quoted((guest.bin_dir / name).string()); };
  std::ostringstream t;
  t << "# The built-in demo guest of `vitrine demo` (written by vitrine; see docs/cli.md).\n"
    << "name = \"demo\"\nbackend = \"sandbox\"\n\n"
    // The pool after the rings holds the windows' pixels (two buffers a window): 96 MiB is two
    // full-HD windows and many small ones; memfd pages cost nothing until written.
    << "[bus]\nsize = 134217728\nchannels = 8\nring_size = 1048576\nsurface_pool = 100663296\n\n"
    // The RemoteApp server on a Unix socket in the guest's private /run (the sandbox mounts a fresh
    // tmpfs there; the appserver makes /run/vitrine): the relay's hop to it skips the TCP stack.
    << "[guest]\nrdp_target = \"unix:/run/vitrine/appserver.sock\"\n\n"
    << "[sandbox]\nhostname = \"vitrine-demo\"\n\n"
    // The guest's X server. -noreset: it must outlive every client.
    << "[[sandbox.program]]\nname = \"xvfb\"\n"
    << "command = [\"Xvfb\", \":0\", \"-screen\", \"0\", " << quoted(guest.screen)
    << ", \"-nolisten\", \"tcp\", \"-noreset\"]\nrestart = \"on-failure\"\n\n"
    // The RemoteApp server waits for the X socket instead of failing and backing off.
    << "[[sandbox.program]]\nname = \"appserver\"\n"
    << "command = [\"/bin/sh\", \"-c\", \"while [ ! -S /tmp/.X11-unix/X0 ]; do sleep 0.05; done; "
       "exec \\\"$0\\\" \\\"$@\\\"\", "
    << bin("vitrine-appserver") << ", \"--display\", \":0\", \"--unix\", \"/run/vitrine/appserver.sock\", "
    // The bus (fd 3, doorbells 4,5 as the sandbox hands them to every guest program): window
    // pixels as shared surfaces.
    << "\"--bus-fd\", \"3\", \"--doorbell-fds\", \"4,5\"";
  // RemoteApp aliases: the demo's windows get places of their own on the guest desktop (it has no
  // window manager to place them), so that no window covers another.
  for (const auto& alias : demo_aliases()) t << ", \"--app\", " << quoted(alias);
  t << "]\nrestart = \"always\"\n\n"
    << "[[sandbox.program]]\nname = \"relay\"\n"
    << "command = [" << bin("vitrine-guest") << ", \"--bus-fd\", \"3\", \"--doorbell-fds\", \"4,5\", "
    << "\"--apps-dir\", " << quoted(guest.apps_dir.string()) << "]\n"
    << "restart = \"on-failure\"\n";
  return t.str();
}

std::expected<std::filesystem::path, std::string> write_demo_config(const DemoGuest& located,
                                                                    const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected("cannot create " + dir.string() + ": " + ec.message());
  // The guest publishes a copy of the demo's applications kept in the state folder: the sandbox
  // hides the host's /tmp (where a build tree may live), and a user can drop more .desktop files
  // there while the demo runs and watch them appear in `vitrine apps`.
  DemoGuest guest = located;
  const auto apps = dir / "demo-data" / "applications";  // DATA/applications, as the XDG layout wants
  std::filesystem::create_directories(apps, ec);
  for (const auto& entry : std::filesystem::directory_iterator(located.apps_dir, ec)) {
    if (entry.path().extension() != ".desktop") continue;
    std::filesystem::copy_file(entry.path(), apps / entry.path().filename(),
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return std::unexpected("cannot copy " + entry.path().string() + " to " + apps.string() + ": " + ec.message());
  }
  guest.apps_dir = apps;
  const auto file = dir / "demo.toml";
  std::ofstream out(file, std::ios::trunc);
  out << demo_config_toml(guest);
  out.close();
  if (!out) return std::unexpected("cannot write " + file.string());
  return file;
}

std::vector<std::string> demo_start_apps() { return {"||xterm", "||xclock"}; }

std::vector<std::string> demo_aliases() {
  return {"xterm=xterm -geometry 80x24+40+40", "xclock=xclock -geometry 220x220+640+40",
          "xeyes=xeyes -geometry 200x140+640+320", "xlogo=xlogo -geometry 160x160+900+320"};
}

}  // namespace vitrine::cli
