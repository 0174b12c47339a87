#include "keyboard_layout_applier.hpp"

#include <X11/Xatom.h>
#include <X11/Xutil.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "vitrine/base/log.hpp"

extern char** environ;

namespace vitrine::appserver::input {
namespace {

using namespace std::chrono_literals;

// setxkbmap runs xkbcomp, which takes about 50-150 ms; a guest that cannot finish in this
// bound has a broken XKB setup, and the session goes on with the old keymap.
constexpr auto kSetxkbmapTimeout = 5s;

// Runs argv[0] from PATH with stdout on /dev/null (stderr stays the appserver's: xkbcomp's
// complaints land in its log) and waits for it. Empty string: exit status 0.
std::string run_and_wait(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return args[0] + " could not be started (package x11-xkb-utils)";
  const auto deadline = std::chrono::steady_clock::now() + kSetxkbmapTimeout;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return args[0] + ": waitpid failed";
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return args[0] + " did not finish in time";
    }
    std::this_thread::sleep_for(5ms);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return args[0] + " failed (status " + std::to_string(status) + ")";
}

}  // namespace

XkbLayout KeyboardLayoutApplier::current() const {
  const Atom names = XInternAtom(dpy_, "_XKB_RULES_NAMES", False);
  Atom type = 0;
  int format = 0;
  unsigned long count = 0, after = 0;
  unsigned char* data = nullptr;
  XkbLayout out;
  if (XGetWindowProperty(dpy_, DefaultRootWindow(dpy_), names, 0, 1024, False, XA_STRING, &type, &format, &count,
                         &after, &data) == Success &&
      data != nullptr && format == 8) {
    out = parse_xkb_rules_names(std::string_view(reinterpret_cast<const char*>(data), count));
  }
  if (data) XFree(data);
  return out;
}

std::expected<LayoutChange, std::string> KeyboardLayoutApplier::apply(uint32_t klid) {
  if (klid == 0) return LayoutChange::kUnchanged;
  const KlidLookup want = klid_to_xkb(klid);
  if (!want.known) base::log_warn("keyboard layout {:#010x} is not in the table: the guest uses 'us'", klid);
  if (current() == want.xkb) return LayoutChange::kUnchanged;
  // -variant always, even empty: without it setxkbmap would keep the server's old variant.
  const std::string err = run_and_wait({"setxkbmap", "-display", DisplayString(dpy_), "-layout", want.xkb.layout,
                                        "-variant", want.xkb.variant});
  if (!err.empty()) return std::unexpected(err);
  // Xlib caches the keyboard mapping per connection: the injector's keysym lookups (unicode
  // input) must see the new one before the MappingNotify is read.
  int min_code = 0, max_code = 0;
  XDisplayKeycodes(dpy_, &min_code, &max_code);
  XMappingEvent ev{};
  ev.type = MappingNotify;
  ev.display = dpy_;
  ev.request = MappingKeyboard;
  ev.first_keycode = min_code;
  ev.count = max_code - min_code + 1;
  XRefreshKeyboardMapping(&ev);
  base::log_info("guest keyboard layout {:#010x}: {}{}{}{}", klid, want.xkb.layout,
                 want.xkb.variant.empty() ? "" : "(", want.xkb.variant, want.xkb.variant.empty() ? "" : ")");
  return LayoutChange::kApplied;
}

}  // namespace vitrine::appserver::input
