// The whole product, started for real: `vitrine run` / `vitrine demo` boot the sandbox demo guest
// (Xvfb + vitrine-appserver + vitrine-guest, through vitrine-vmm), connect RemoteApp through the
// bus, and show the guest's windows on a host Xvfb or headless as PNGs. A helper inside the guest
// (guest_xshot) screenshots the guest's own X server, so the tests compare what the host shows
// with what the guest shows, pixel for pixel (planar is lossless).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
// After gtest: Xlib's macros (None, Bool, Status) would break gtest's own declarations.
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "demo_guest.hpp"
#include "demo_support.hpp"
#include "process_util.hpp"
#include "test_dir.hpp"
#include "vitrine/catalog/png_image.hpp"

namespace vitrine::cli {
namespace {

using namespace std::chrono_literals;
using relay::testing::have_program;
using namespace e2e;  // demo_support.hpp

class Demo : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "cannot create a folder in /var/tmp";
    for (const char* p : {"Xvfb", "xterm", "xclock", "xeyes"})
      if (!have_program(p)) GTEST_SKIP() << "needs " << p << " (xvfb, xterm, x11-apps)";
    auto guest = locate_demo_guest();
    if (!guest) GTEST_SKIP() << guest.error();
    guest_ = *guest;
    shots_ = dir_.path() / "guest-shots";
    std::filesystem::create_directories(shots_);
  }

  // The demo guest plus the screenshot helper inside it.
  std::filesystem::path write_config() {
    const auto xshot = guest_.bin_dir / "vitrine_test_guest_xshot";
    auto demo = write_demo_config(guest_, dir_.path() / "demo");  // the demo's apps folder, outside /tmp
    EXPECT_TRUE(demo) << demo.error();
    std::string toml = read_file(*demo);
    toml += "\n[[sandbox.program]]\nname = \"xshot\"\ncommand = [\"" + xshot.string() + "\", \":0\", \"" +
            shots_.string() + "\", \"250\"]\nrestart = \"on-failure\"\n";
    // Host windows are compared with the guest's screen pixel for pixel and found by title: no
    // per-VM label here (its border and title prefix have their own tests).
    toml += "\n[display]\nborder_px = 0\ntitle_prefix = \"\"\n";
    const auto file = dir_.path() / "vm.toml";
    std::ofstream(file) << toml;
    return file;
  }

  std::map<std::string, std::string> env(const std::string& display) const {
    return {{"DISPLAY", display},
            {"XDG_STATE_HOME", (dir_.path() / "state").string()},
            {"XDG_RUNTIME_DIR", runtime_.path().string()},
            {"XDG_DATA_HOME", (dir_.path() / "data").string()}};
  }

  static ::testing::AssertionResult nothing_left(const std::set<pid_t>& pids) {
    if (pids.empty()) return ::testing::AssertionFailure() << "the log named no guest process";
    for (pid_t pid : pids) {
      // A pid may be reused by the time we look; a zombie or a new process of another name is
      // not ours. Ours would still run the same executable.
      const auto status = read_file("/proc/" + std::to_string(pid) + "/status");
      if (!status.empty() && status.find("State:\tZ") == std::string::npos)
        return ::testing::AssertionFailure() << "process " << pid << " is still running:\n" << status.substr(0, 200);
    }
    return ::testing::AssertionSuccess();
  }

  SharedDir dir_;
  test::TempDir runtime_;
  DemoGuest guest_;
  std::filesystem::path shots_;
};

TEST_F(Demo, HeadlessScreenshotsEqualTheGuestsView) {
  const auto out = dir_.path() / "host-shots";
  Vitrine v({"-v", "--instance", "headless", "run", write_config().string(), "--app", "||xterm", "--app", "||xclock",
             "--headless", "--screenshot-dir", out.string()},
            env(""), dir_.path() / "vitrine.log");
  auto both = [&] {
    std::set<std::string> titles;
    for (const auto& w : read_index(out)) titles.insert(w.title);
    return titles.count("xterm") == 1 && titles.count("xclock") == 1;
  };
  ASSERT_TRUE(wait_until([&] { return both() || !v.running(); }, 90s) && both()) << v.log();
  std::this_thread::sleep_for(1500ms);  // let both windows finish drawing
  ASSERT_EQ(v.finish(SIGINT, 30s), 130) << v.log();
  const auto pids = v.pids();
  EXPECT_TRUE(nothing_left(pids)) << v.log();

  const auto shots = guest_shots(shots_);
  const auto windows = read_index(out);
  ASSERT_GE(windows.size(), 2u);
  for (const auto& w : windows) {
    auto img = load_png(out / w.file);
    ASSERT_TRUE(img) << w.file;
    ASSERT_EQ(static_cast<int>(img->width), w.width);
    ASSERT_EQ(static_cast<int>(img->height), w.height);
    EXPECT_TRUE(matches_guest(w.title, img->pixels.data(), w.width, w.height, img->width * 4u, 0, shots, w.x, w.y));
  }
}

// Host X windows on an Xvfb of the test: titles, pixels, then the launcher socket (apps, launch),
// desktop launchers, and Ctrl-C.
class DemoOnX : public Demo {
 protected:
  struct HostWindow {
    Window xid = 0;
    std::string title;
    int x = 0, y = 0, width = 0, height = 0;
  };

  std::vector<HostWindow> host_windows(Display* dpy) {
    std::vector<HostWindow> out;
    Window root_ret, parent;
    Window* children = nullptr;
    unsigned n = 0;
    if (!XQueryTree(dpy, DefaultRootWindow(dpy), &root_ret, &parent, &children, &n)) return out;
    const Atom net_wm_name = XInternAtom(dpy, "_NET_WM_NAME", False);
    const Atom utf8 = XInternAtom(dpy, "UTF8_STRING", False);
    for (unsigned i = 0; i < n; ++i) {
      XWindowAttributes a;
      if (!XGetWindowAttributes(dpy, children[i], &a) || a.map_state != IsViewable) continue;
      Atom type;
      int format;
      unsigned long items, after;
      unsigned char* data = nullptr;
      std::string title;
      if (XGetWindowProperty(dpy, children[i], net_wm_name, 0, 1024, False, utf8, &type, &format, &items, &after,
                             &data) == Success &&
          data != nullptr) {
        title.assign(reinterpret_cast<char*>(data), items);
        XFree(data);
      }
      if (title.empty()) {
        char* name = nullptr;
        if (XFetchName(dpy, children[i], &name) && name != nullptr) {
          title = name;
          XFree(name);
        }
      }
      if (title.empty()) continue;
      out.push_back({children[i], title, a.x, a.y, a.width, a.height});
    }
    if (children != nullptr) XFree(children);
    return out;
  }

  std::optional<HostWindow> find(Display* dpy, const std::string& title) {
    for (const auto& w : host_windows(dpy))
      if (w.title == title) return w;
    return std::nullopt;
  }

  ::testing::AssertionResult window_matches_guest(Display* dpy, const HostWindow& w) {
    XImage* img = XGetImage(dpy, w.xid, 0, 0, static_cast<unsigned>(w.width), static_cast<unsigned>(w.height),
                            AllPlanes, ZPixmap);
    if (img == nullptr) return ::testing::AssertionFailure() << "XGetImage failed for " << w.title;
    std::vector<std::uint8_t> bgrx(static_cast<std::size_t>(w.width) * w.height * 4);
    for (int y = 0; y < w.height; ++y)
      for (int x = 0; x < w.width; ++x) {
        const unsigned long p = XGetPixel(img, x, y);
        std::uint8_t* o = &bgrx[(static_cast<std::size_t>(y) * w.width + x) * 4];
        o[0] = static_cast<std::uint8_t>(p), o[1] = static_cast<std::uint8_t>(p >> 8);
        o[2] = static_cast<std::uint8_t>(p >> 16), o[3] = 0xff;
      }
    XDestroyImage(img);
    return matches_guest(w.title, bgrx.data(), w.width, w.height, static_cast<std::size_t>(w.width) * 4, 1,
                         guest_shots(shots_), w.x, w.y);
  }
};

// The XDG startup-notification messages sent to a host's root window (the spec's ClientMessages
// _NET_STARTUP_INFO_BEGIN / _NET_STARTUP_INFO, 20 bytes each, joined up to their NUL).
class StartupListener {
 public:
  explicit StartupListener(const std::string& display) : dpy_(XOpenDisplay(display.c_str())) {
    if (dpy_ == nullptr) return;
    begin_ = XInternAtom(dpy_, "_NET_STARTUP_INFO_BEGIN", False);
    more_ = XInternAtom(dpy_, "_NET_STARTUP_INFO", False);
    XSelectInput(dpy_, DefaultRootWindow(dpy_), PropertyChangeMask);
    XSync(dpy_, False);
  }
  ~StartupListener() {
    if (dpy_ != nullptr) XCloseDisplay(dpy_);
  }
  // Every complete message so far.
  const std::vector<std::string>& messages() {
    while (dpy_ != nullptr && XPending(dpy_) > 0) {
      XEvent e;
      XNextEvent(dpy_, &e);
      if (e.type != ClientMessage || (e.xclient.message_type != begin_ && e.xclient.message_type != more_)) continue;
      std::string& buf = partial_[e.xclient.window];
      if (e.xclient.message_type == begin_) buf.clear();
      for (int i = 0; i < 20; ++i) {
        if (e.xclient.data.b[i] == '\0') {
          done_.push_back(buf);
          buf.clear();
          break;
        }
        buf += e.xclient.data.b[i];
      }
    }
    return done_;
  }
  bool has(const std::string& text) {
    const auto& all = messages();
    return std::find(all.begin(), all.end(), text) != all.end();
  }

 private:
  Display* dpy_ = nullptr;
  Atom begin_ = None, more_ = None;
  std::map<::Window, std::string> partial_;
  std::vector<std::string> done_;
};

TEST_F(DemoOnX, WindowsAppsLaunchLaunchersAndCtrlC) {
  relay::testing::Xvfb host("1280x800x24");
  if (host.display().empty()) GTEST_SKIP() << "Xvfb did not start";
  Display* dpy = XOpenDisplay(host.display().c_str());
  ASSERT_NE(dpy, nullptr);
  StartupListener startup(host.display());  // from the start: the launches below begin sequences
  auto e = env(host.display());
  Vitrine v({"-v", "--instance", "onx", "run", write_config().string(), "--app", "||xterm", "--app", "||xclock"}, e,
            dir_.path() / "vitrine.log");

  // xterm and xclock become host X windows with their titles and the guest's pixels.
  ASSERT_TRUE(wait_until([&] { return (find(dpy, "xterm") && find(dpy, "xclock")) || !v.running(); }, 90s) &&
              find(dpy, "xterm") && find(dpy, "xclock"))
      << v.log();
  std::this_thread::sleep_for(1500ms);
  for (const char* title : {"xterm", "xclock"}) {
    auto w = find(dpy, title);
    ASSERT_TRUE(w) << title;
    EXPECT_TRUE(window_matches_guest(dpy, *w)) << v.log();
  }

  auto cli = [&](std::vector<std::string> args, const std::string& name) {
    std::vector<std::string> full{"--instance", "onx"};
    full.insert(full.end(), args.begin(), args.end());
    Vitrine c(full, e, dir_.path() / (name + ".log"));
    const int code = c.finish(0, 60s);
    return std::make_pair(code, c.log());
  };

  // The guest's catalogue reaches `vitrine apps`.
  std::pair<int, std::string> apps;
  ASSERT_TRUE(wait_until(
      [&] {
        apps = cli({"apps"}, "apps");
        return apps.first == 0 && apps.second.find("xclock") != std::string::npos;
      },
      30s))
      << apps.second << "\n" << v.log();
  EXPECT_NE(apps.second.find("xterm"), std::string::npos) << apps.second;
  EXPECT_NE(apps.second.find("xeyes"), std::string::npos) << apps.second;

  // One more seamless window through the launcher socket.
  auto launched = cli({"launch", "xeyes"}, "launch");
  EXPECT_EQ(launched.first, 0) << launched.second << "\n" << v.log();
  EXPECT_TRUE(wait_until([&] { return find(dpy, "xeyes").has_value(); }, 30s)) << v.log();
  // Launch feedback (XDG startup notification): from a terminal, `vitrine launch` starts a
  // sequence of its own; from a menu entry it takes DESKTOP_STARTUP_ID. Either way the instance
  // ends it when the window comes, and the window carries the id (_NET_STARTUP_ID).
  std::smatch began;
  EXPECT_TRUE(wait_until([&] { return !startup.messages().empty(); }, 10s));
  const std::vector<std::string> sent = startup.messages();
  EXPECT_TRUE(std::any_of(sent.begin(), sent.end(), [&](const std::string& m) {
    return std::regex_search(m, began, std::regex("^new: ID=\"(vitrine-xeyes-[0-9]+-[0-9]+_TIME0)\" NAME=\"xeyes\""));
  })) << "the xeyes launch above began a sequence";
  if (!began.empty()) {
    const std::string id = began[1].str();
    EXPECT_TRUE(wait_until([&] { return startup.has("remove: ID=\"" + id + "\""); }, 10s)) << id;
  }
  {
    Vitrine menu({"--instance", "onx", "launch", "xlogo"},
                 [&] {
                   auto m = e;
                   m["DESKTOP_STARTUP_ID"] = "menu-7_TIME42";
                   return m;
                 }(),
                 dir_.path() / "launch-menu.log");
    EXPECT_EQ(menu.finish(0, 60s), 0) << menu.log();
  }
  EXPECT_TRUE(wait_until([&] { return startup.has("remove: ID=\"menu-7_TIME42\""); }, 30s)) << v.log();
  EXPECT_FALSE(std::any_of(startup.messages().begin(), startup.messages().end(),
                           [](const std::string& m) { return m.find("new: ID=\"menu-7") != std::string::npos; }))
      << "the menu's own sequence is not begun again";
  auto startup_id_of = [&](const std::string& title) {
    auto w = find(dpy, title);
    if (!w) return std::string("(no window)");
    Atom type = None;
    int format = 0;
    unsigned long n = 0, after = 0;
    unsigned char* data = nullptr;
    std::string id;
    if (XGetWindowProperty(dpy, w->xid, XInternAtom(dpy, "_NET_STARTUP_ID", False), 0, 256, False, AnyPropertyType,
                           &type, &format, &n, &after, &data) == Success && data != nullptr) {
      id.assign(reinterpret_cast<const char*>(data), n);
      XFree(data);
    }
    return id;
  };
  EXPECT_TRUE(wait_until([&] { return startup_id_of("xlogo") == "menu-7_TIME42"; }, 10s)) << startup_id_of("xlogo");

  // Arguments after APP go to the application (they used to end in RAIL_EXEC_E_FILE_NOT_FOUND:
  // FreeRDP 2.11's rail server ran the argument string as the program).
  const std::string title = "it's \"vitrine\" h\u00e9llo";
  auto titled = cli({"launch", "xterm", "-title", title, "-e", "sleep", "60"}, "launch-args");
  EXPECT_EQ(titled.first, 0) << titled.second << "\n" << v.log();
  EXPECT_TRUE(wait_until([&] { return find(dpy, title).has_value(); }, 30s)) << v.log();
  auto unknown = cli({"launch", "no-such-app"}, "launch-unknown");
  EXPECT_EQ(unknown.first, 4) << unknown.second;
  EXPECT_NE(unknown.second.find("xterm"), std::string::npos) << "the message lists what is published";

  // Live counters and stage latencies.
  auto stats = cli({"stats"}, "stats");
  EXPECT_EQ(stats.first, 0) << stats.second;
  for (const char* key : {"rdp.paints", "relay.bytes_to_host", "display.windows", "latency.paint_to_upload",
                          "latency.guest_receive_to_commit", "latency.commit_to_host_read", "latency.end_to_end",
                          "bus.guest_clock", "surface.presents", "surface.uploads", "surface.faults"})
    EXPECT_NE(stats.second.find(key), std::string::npos) << key << " in:\n" << stats.second;
  // Click-to-window of the three launches above (launcher socket -> the host window), and the
  // instance's start to its first window.
  EXPECT_TRUE(std::regex_search(stats.second, std::regex("launch\\.click_to_window +p50 [0-9]+ ms, p99 [0-9]+ ms, max "
                                                         "[0-9]+ ms \\(3 launches\\)")))
      << stats.second;
  EXPECT_TRUE(std::regex_search(stats.second, std::regex("launch\\.cold_to_first_window +[0-9]+ ms"))) << stats.second;
  // Each window names the path of its pixels; the demo's apps paint through surfaces.
  EXPECT_TRUE(std::regex_search(stats.second, std::regex("surface\\.enabled +yes"))) << stats.second;
  EXPECT_TRUE(std::regex_search(stats.second, std::regex("window\\.[0-9]+\\.pixels +surface \"xterm\""))) << stats.second;

  // Menu entries for the published applications.
  auto installed = cli({"install-launchers"}, "install");
  EXPECT_EQ(installed.first, 0) << installed.second;
  const auto apps_dir = dir_.path() / "data" / "applications";
  int entries = 0;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(apps_dir, ec)) {
    if (f.path().extension() != ".desktop") continue;
    ++entries;
    const std::string cmd = "desktop-file-validate '" + f.path().string() + "' 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << f.path();
  }
  EXPECT_GE(entries, 3) << installed.second;

  // The host switches its keyboard layout (as a desktop's switcher does, through XKB): the guest's
  // keymap follows (RAIL Language Profile PDU -> the appserver applies it; its log says so).
  if (have_program("setxkbmap")) {
    ASSERT_EQ(std::system(("setxkbmap -display " + host.display() + " de").c_str()), 0);
    const auto logs = dir_.path() / "state" / "vitrine" / "onx" / "logs";
    auto guest_log = [&] {
      std::string all;
      std::error_code none;
      for (const auto& f : std::filesystem::directory_iterator(logs, none))
        if (f.path().string().ends_with("-sandbox.log")) all += read_file(f.path());
      return all;
    };
    EXPECT_TRUE(wait_until(
        [&] { return guest_log().find("keyboard layout 0x00000407 (language profile): applied") != std::string::npos; },
        30s))
        << v.log() << "\n" << guest_log();
  } else {
    ADD_FAILURE() << "setxkbmap is not installed (x11-xkb-utils; scripts/deps/appserver.txt installs it)";
  }

  // Ctrl-C stops everything: the command exits 130 and no process of the demo is left.
  ASSERT_EQ(v.finish(SIGINT, 30s), 130) << v.log();
  EXPECT_TRUE(nothing_left(v.pids())) << v.log();
  XSync(dpy, False);
  EXPECT_FALSE(find(dpy, "xterm").has_value());
  XCloseDisplay(dpy);
}

// `vitrine connect --listen`: the real xfreerdp binary uses the bus through a local socket and
// shows the guest's RemoteApp window on the host display.
TEST_F(DemoOnX, ConnectGatewayServesTheRealXfreerdp) {
  if (!have_program("xfreerdp")) GTEST_SKIP() << "needs xfreerdp (freerdp2-x11)";
  relay::testing::Xvfb host("1280x800x24");
  if (host.display().empty()) GTEST_SKIP() << "Xvfb did not start";
  Display* dpy = XOpenDisplay(host.display().c_str());
  ASSERT_NE(dpy, nullptr);
  const auto sock = dir_.path() / "rdp.sock";
  auto e = env(host.display());
  Vitrine gateway({"-v", "--instance", "gw", "connect", "--listen", sock.string(), write_config().string(),
                   "--duration", "120"},
                  e, dir_.path() / "connect.log");
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(sock) || !gateway.running(); }, 60s) &&
              std::filesystem::exists(sock))
      << gateway.log();
  relay::testing::Child client = relay::testing::Child::start(
      {"xfreerdp", "/v:" + sock.string(), "/sec:rdp", "/cert:ignore", "/u:x", "/p:x", "/app:||xterm"},
      {"DISPLAY=" + host.display()});
  EXPECT_TRUE(wait_until([&] { return find(dpy, "xterm").has_value(); }, 60s)) << gateway.log();
  if (auto w = find(dpy, "xterm")) {
    std::this_thread::sleep_for(1500ms);
    EXPECT_TRUE(window_matches_guest(dpy, *find(dpy, "xterm"))) << gateway.log();
  }
  client.stop();
  EXPECT_EQ(gateway.finish(SIGINT, 30s), 130) << gateway.log();
  EXPECT_NE(gateway.log().find("served 1 client"), std::string::npos) << gateway.log();
  XCloseDisplay(dpy);
}

// What the README's first command runs on a machine without a display.
TEST_F(Demo, DemoCommandRunsHeadlessForAFixedTime) {
  const auto out = dir_.path() / "demo-shots";
  const auto telemetry = dir_.path() / "telemetry.json";
  Vitrine v({"demo", "--headless", "--duration", "25", "--screenshot-dir", out.string(), "--telemetry-json",
             telemetry.string()},
            env(""), dir_.path() / "demo.log");
  ASSERT_EQ(v.finish(0, 120s), 0) << v.log();
  // Every stage's latencies (the guest's from its stamps on the bus) and the counters of
  // `vitrine stats`, written on exit: each stage present and with samples.
  const std::string json = read_file(telemetry);
  for (const char* stage : {"guest_receive_to_commit", "commit_to_host_read", "host_read_to_paint", "paint_to_upload",
                            "upload_to_present", "end_to_end"}) {
    EXPECT_NE(json.find("\"" + std::string(stage) + "\":{\"count\":"), std::string::npos) << stage << "\n" << json;
    EXPECT_EQ(json.find("\"" + std::string(stage) + "\":{\"count\":0,"), std::string::npos) << stage << "\n" << json;
  }
  // The surface stages too: the demo's windows paint through the bus pool.
  for (const char* stage : {"surface_damage_to_read", "surface_read_to_upload", "surface_upload_to_present",
                            "surface_end_to_end"})
    EXPECT_EQ(json.find("\"" + std::string(stage) + "\":{\"count\":0,"), std::string::npos) << stage << "\n" << json;
  EXPECT_NE(json.find("\"rdp.paints\""), std::string::npos) << json;
  EXPECT_TRUE(std::regex_search(json, std::regex("\"cold_to_first_window_ns\": [0-9]+"))) << json;
  EXPECT_NE(json.find("\"surface.presents\""), std::string::npos) << json;
  std::set<std::string> titles;
  for (const auto& w : read_index(out)) titles.insert(w.title);
  EXPECT_EQ(titles.count("xterm"), 1u) << v.log();
  EXPECT_EQ(titles.count("xclock"), 1u) << v.log();
}

// A menu entry clicked while its instance is down (issue 21, launch feedback): `vitrine launch`
// starts the instance with the command it last ran with (less --duration), waits until it
// publishes applications, then launches. An instance never started has nothing to run.
TEST_F(Demo, LaunchStartsAnInstanceThatIsNotRunning) {
  auto cli = [&](std::vector<std::string> args, const std::string& name) {
    std::vector<std::string> full{"--instance", "auto"};
    full.insert(full.end(), args.begin(), args.end());
    Vitrine c(full, env(""), dir_.path() / (name + ".log"));
    const int code = c.finish(0, 200s);
    return std::make_pair(code, c.log());
  };
  auto never = cli({"launch", "xeyes"}, "never-started");
  EXPECT_EQ(never.first, 3) << never.second;
  EXPECT_NE(never.second.find("never started here"), std::string::npos) << never.second;

  Vitrine once({"--instance", "auto", "demo", "--headless", "--duration", "3"}, env(""), dir_.path() / "once.log");
  ASSERT_EQ(once.finish(0, 120s), 0) << once.log();
  const std::string recorded = read_file(dir_.path() / "state" / "vitrine" / "auto" / "start-command");
  EXPECT_NE(recorded.find(std::string("demo") + '\0' + "--headless"), std::string::npos) << recorded;
  EXPECT_EQ(recorded.find("--duration"), std::string::npos) << "an on-demand start runs until stopped";

  auto launched = cli({"launch", "xeyes"}, "launch-cold");
  std::smatch pid;
  ASSERT_TRUE(std::regex_search(launched.second, pid, std::regex("starting instance 'auto' \\(pid ([0-9]+)"))) << launched.second;
  const pid_t instance = static_cast<pid_t>(std::stol(pid[1].str()));
  // Detached from this test: it must not outlive a failure below.
  struct StopAtExit {
    pid_t pid;
    ~StopAtExit() {  // only while it is still our instance (a pid can be reused once it ended)
      if (read_file("/proc/" + std::to_string(pid) + "/cmdline").find("vitrine") != std::string::npos)
        (void)::kill(pid, SIGINT);
    }
  } stop_at_exit{instance};
  ASSERT_EQ(launched.first, 0) << launched.second;
  auto stats = cli({"stats"}, "stats-cold");
  EXPECT_EQ(stats.first, 0) << stats.second;
  EXPECT_TRUE(std::regex_search(stats.second, std::regex("launches +1"))) << stats.second;
  EXPECT_TRUE(std::regex_search(stats.second, std::regex("launch\\.cold_to_first_window +[0-9]+ ms"))) << stats.second;
  // Started detached: stop it as a user would (Ctrl-C is SIGINT to its process).
  ASSERT_EQ(::kill(instance, SIGINT), 0);
  EXPECT_TRUE(wait_until([&] { return ::kill(instance, 0) != 0; }, 60s)) << "the instance did not stop";
}

// A new user's first try: `git clone` into /tmp, build, `vitrine demo`. Every program the demo
// guest runs then lives under /tmp, which the sandbox replaces with its own tmpfs; so do the
// state and runtime folders here. Copies of this build's programs under /tmp stand for that
// checkout (the layout vitrine looks for: bin/ and share/vitrine/demo next to each other).
TEST_F(Demo, RunsFromACheckoutUnderTmp) {
  test::TempDir checkout;  // under /tmp (temp_directory_path)
  ASSERT_TRUE(checkout.path().string().starts_with("/tmp/")) << checkout.path();
  const auto bin = checkout.path() / "build" / "release" / "bin";
  std::filesystem::create_directories(bin);
  for (const char* program : {"vitrine", "vitrine-vmm", "vitrine-sandbox-init", "vitrine-guest", "vitrine-appserver"})
    std::filesystem::copy_file(guest_.bin_dir / program, bin / program);
  std::filesystem::create_directories(checkout.path() / "build" / "release" / "share" / "vitrine" / "demo");
  std::filesystem::copy(guest_.apps_dir.parent_path(), checkout.path() / "build" / "release" / "share" / "vitrine" / "demo",
                        std::filesystem::copy_options::recursive);
  const auto out = checkout.path() / "shots";
  std::filesystem::create_directories(checkout.path() / "run");
  Vitrine v({"demo", "--headless", "--duration", "15", "--screenshot-dir", out.string()},
            {{"DISPLAY", ""},
             {"XDG_STATE_HOME", (checkout.path() / "state").string()},
             {"XDG_RUNTIME_DIR", (checkout.path() / "run").string()},
             {"XDG_DATA_HOME", (checkout.path() / "data").string()}},
            dir_.path() / "demo.log", (bin / "vitrine").string());
  ASSERT_EQ(v.finish(0, 120s), 0) << v.log();
  std::set<std::string> titles;
  for (const auto& w : read_index(out)) titles.insert(w.title);
  EXPECT_EQ(titles.count("xterm"), 1u) << v.log();
  EXPECT_EQ(titles.count("xclock"), 1u) << v.log();
}

// A guest RDP server that cannot start: the user is told which program failed and why (the
// guest's log line), not only "connection refused".
TEST_F(Demo, AGuestProgramThatCannotStartIsNamedInTheError) {
  auto demo = write_demo_config(guest_, dir_.path() / "demo");
  ASSERT_TRUE(demo) << demo.error();
  std::string toml = read_file(*demo);
  const std::string real = (guest_.bin_dir / "vitrine-appserver").string();
  const std::string missing = (dir_.path() / "no-such-dir" / "vitrine-appserver").string();
  ASSERT_NE(toml.find(real), std::string::npos) << toml;
  toml.replace(toml.find(real), real.size(), missing);
  const auto file = dir_.path() / "broken.toml";
  std::ofstream(file) << toml;
  Vitrine v({"run", file.string(), "--headless", "--duration", "5"}, env(""), dir_.path() / "run.log");
  const int code = v.finish(0, 120s);
  EXPECT_NE(code, 0) << v.log();
  EXPECT_NE(code, -1) << "vitrine run did not end:\n" << v.log();
  const std::string log = v.log();
  EXPECT_NE(log.find("guest program appserver exited (exit 127"), std::string::npos) << log;
  EXPECT_NE(log.find(missing), std::string::npos) << "the guest's log line naming the missing program\n" << log;
}

}  // namespace
}  // namespace vitrine::cli
