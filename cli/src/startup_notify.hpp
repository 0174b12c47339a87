// StartupNotify: the XDG startup-notification protocol (freedesktop.org startup-notification
// spec 0.1) on the host's X server: the busy cursor and the taskbar's "starting..." entry
// between a click on a menu entry and the guest application's window.
//
// A launcher that supports it (StartupNotify=true in the desktop entry) sends "new:" itself and
// gives `vitrine launch` the id in DESKTOP_STARTUP_ID; from a terminal `vitrine launch` sends
// "new:" with an id of its own. The id travels with the launch request (`launch-notify`) to the
// instance, which, when the next application window appears, puts the id on that window
// (_NET_STARTUP_ID) and sends "remove:". A launch that fails is removed by `vitrine launch`;
// one whose window never comes by the instance after LaunchClock::kGiveUp.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace vitrine::cli {

class StartupNotify {
 public:
  // nullptr when `display` (empty: none) cannot be opened.
  static std::unique_ptr<StartupNotify> open(const std::string& display);
  ~StartupNotify();
  StartupNotify(const StartupNotify&) = delete;
  StartupNotify& operator=(const StartupNotify&) = delete;

  // Sends one message ("new: ID=..." / "remove: ID=...") to the root window in 20-byte pieces.
  void send(std::string_view message);
  void begin(const std::string& id, std::string_view app);  // "new:" for a launch of ours
  void end(const std::string& id);                          // "remove:"
  // Sets _NET_STARTUP_ID on a window (the application window the launch produced).
  void tag_window(unsigned long xid, const std::string& id);

  // A value as the spec quotes it: "..." with \" and \\ escaped.
  static std::string quote(std::string_view value);
  // An id for a launch this process starts itself ("vitrine-xterm-1234-0_TIME0": no X
  // timestamp is known, which the spec allows as 0).
  static std::string new_id(std::string_view app);

 private:
  StartupNotify() = default;
  struct X;
  std::unique_ptr<X> x_;
};

}  // namespace vitrine::cli
