// X11 backend under a private Xvfb with a real EWMH window manager (openbox): minimize and
// restore go through the window manager (WM_CHANGE_STATE / map), maximize through
// _NET_WM_STATE client messages, and a minimize the user asks of the window manager comes back
// to the InputSink as a state request. Skipped when Xvfb or openbox is missing.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "headless_fixture.hpp"
#include "vitrine/compositor/x11_backend.hpp"
#include "xvfb_server.hpp"

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

namespace vitrine::compositor {
namespace {

using testing::Framebuffer;

struct StateSink : InputSink {
  std::vector<std::pair<WindowId, WindowState>> states;
  std::vector<std::pair<WindowId, DesktopRect>> moves;
  void on_key(const KeyEvent&) override {}
  void on_pointer_motion(const PointerEvent&) override {}
  void on_button(const ButtonEvent&) override {}
  void on_wheel(const WheelEvent&) override {}
  void on_focus(WindowId, bool) override {}
  void on_move_resize(WindowId w, const DesktopRect& r) override { moves.emplace_back(w, r); }
  void on_close_request(WindowId) override {}
  void on_state_request(WindowId w, WindowState s) override { states.emplace_back(w, s); }
};

class X11WithWindowManager : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::use_software_gl();
    if (xvfb_.display().empty()) GTEST_SKIP() << xvfb_.why();
    if (std::system("command -v openbox >/dev/null 2>&1") != 0) GTEST_SKIP() << "openbox not installed";
    peer_ = XOpenDisplay(xvfb_.display().c_str());
    ASSERT_NE(peer_, nullptr);
    wm_ = fork();
    if (wm_ == 0) {
      setenv("DISPLAY", xvfb_.display().c_str(), 1);
      execlp("openbox", "openbox", "--sm-disable", static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(wm_, 0);
    // The window manager is up once it advertises itself on the root window (EWMH).
    ASSERT_TRUE(wait_for([&] { return !root_property("_NET_SUPPORTING_WM_CHECK", XA_WINDOW).empty(); }))
        << "openbox did not start";
    X11Config xc;
    xc.display = xvfb_.display();
    xc.sink = &sink_;
    auto backend = X11Backend::create(xc);
    if (!backend) GTEST_SKIP() << "X11 EGL unavailable: " << to_string(backend.error());
    backend_ = backend->get();
    ASSERT_TRUE(backend_->window_manager_running());
    CompositorConfig config;
    config.debug_damage = false;
    auto c = Compositor::create(std::move(*backend), config);
    ASSERT_TRUE(c) << to_string(c.error());
    comp_ = std::move(*c);
    std::mt19937 rng(3);
    fb_.randomize(rng);
  }
  void TearDown() override {
    comp_.reset();
    if (peer_ != nullptr) XCloseDisplay(peer_);
    if (wm_ > 0) {
      kill(wm_, SIGTERM);
      int status = 0;
      waitpid(wm_, &status, 0);
    }
  }

  Atom atom(const char* name) { return XInternAtom(peer_, name, False); }
  std::vector<unsigned long> property(::Window w, const char* name, Atom type) {
    Atom actual = 0;
    int format = 0;
    unsigned long n = 0, after = 0;
    unsigned char* data = nullptr;
    std::vector<unsigned long> out;
    if (XGetWindowProperty(peer_, w, atom(name), 0, 1024, False, type, &actual, &format, &n, &after, &data) ==
            Success && data != nullptr) {
      if (format == 32) {
        for (unsigned long i = 0; i < n; ++i) out.push_back(reinterpret_cast<unsigned long*>(data)[i] & 0xffffffffUL);
      }
      XFree(data);
    }
    return out;
  }
  std::vector<unsigned long> root_property(const char* name, Atom type) {
    return property(DefaultRootWindow(peer_), name, type);
  }
  bool has_state(WindowId id, const char* state) {
    auto atoms = property(backend_->native_window(id), "_NET_WM_STATE", XA_ATOM);
    return std::find(atoms.begin(), atoms.end(), atom(state)) != atoms.end();
  }
  long wm_state(WindowId id) {  // ICCCM WM_STATE: 1 normal, 3 iconic, -1 none
    auto v = property(backend_->native_window(id), "WM_STATE", atom("WM_STATE"));
    return v.empty() ? -1 : static_cast<long>(v[0]);
  }
  // Dispatches the backend's events until `done()` or 10 s (the window manager is asynchronous).
  template <typename F>
  bool wait_for(F done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (backend_ != nullptr) backend_->dispatch_events();
      XSync(peer_, False);
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }
  void present() {
    auto r = comp_->present(fb_.view());
    ASSERT_TRUE(r) << to_string(r.error());
    backend_->sync();
  }

  testing::XvfbServer xvfb_{800, 600};
  pid_t wm_ = -1;
  StateSink sink_;
  X11Backend* backend_ = nullptr;
  std::unique_ptr<Compositor> comp_;
  Display* peer_ = nullptr;
  Framebuffer fb_{800, 600};
};

WindowDesc normal(DesktopRect r) {
  WindowDesc d;
  d.rect = r;
  d.title = "managed";
  return d;
}

TEST_F(X11WithWindowManager, MinimizeRestoreAndMaximizeGoThroughTheWindowManager) {
  ASSERT_TRUE(comp_->create_window(1, normal({100, 100, 200, 150})));
  present();
  ASSERT_TRUE(wait_for([&] { return wm_state(1) == NormalState; })) << "window never managed";

  ASSERT_TRUE(comp_->set_state(1, WindowState::kMinimized));
  EXPECT_TRUE(wait_for([&] { return wm_state(1) == IconicState && has_state(1, "_NET_WM_STATE_HIDDEN"); }));
  ASSERT_TRUE(comp_->set_state(1, WindowState::kNormal));
  present();
  EXPECT_TRUE(wait_for([&] { return wm_state(1) == NormalState && !has_state(1, "_NET_WM_STATE_HIDDEN"); }));

  ASSERT_TRUE(comp_->set_state(1, WindowState::kMaximized));
  EXPECT_TRUE(wait_for([&] {
    return has_state(1, "_NET_WM_STATE_MAXIMIZED_VERT") && has_state(1, "_NET_WM_STATE_MAXIMIZED_HORZ");
  }));
  ASSERT_TRUE(comp_->set_state(1, WindowState::kNormal));
  EXPECT_TRUE(wait_for([&] { return !has_state(1, "_NET_WM_STATE_MAXIMIZED_VERT"); }));
  // Every state change above was ours: none of them is reported back as a request.
  for (const auto& [id, s] : sink_.states) {
    (void)id;
    ADD_FAILURE() << "unexpected state request " << static_cast<int>(s);
  }
  EXPECT_EQ(backend_->x_errors(), 0u);
}

TEST_F(X11WithWindowManager, AMinimizeAskedOfTheWindowManagerBecomesARequest) {
  ASSERT_TRUE(comp_->create_window(1, normal({50, 50, 120, 90})));
  present();
  ASSERT_TRUE(wait_for([&] { return wm_state(1) == NormalState; }));
  // What a taskbar or xdotool windowminimize does (ICCCM 4.1.4).
  XEvent e{};
  e.xclient.type = ClientMessage;
  e.xclient.window = backend_->native_window(1);
  e.xclient.message_type = atom("WM_CHANGE_STATE");
  e.xclient.format = 32;
  e.xclient.data.l[0] = IconicState;
  XSendEvent(peer_, DefaultRootWindow(peer_), False, SubstructureRedirectMask | SubstructureNotifyMask, &e);
  XSync(peer_, False);
  ASSERT_TRUE(wait_for([&] {
    return std::any_of(sink_.states.begin(), sink_.states.end(),
                       [](const auto& p) { return p.first == 1 && p.second == WindowState::kMinimized; });
  }));
  EXPECT_EQ(comp_->scene().find(1)->desc.state, WindowState::kNormal);  // the guest decides
}

// Issue 17 (5): a guest window that no host input asked for (WindowDesc::focus_on_map false:
// _NET_WM_USER_TIME 0) is mapped without taking focus from what the user is typing into; one the
// user just launched or clicked is focused as usual. Openbox focuses new windows by default
// (focusNew), so the first window shows that the manager would have focused the second.
TEST_F(X11WithWindowManager, AWindowNoHostInputAskedForIsMappedWithoutFocus) {
  auto active = [&] {
    auto v = root_property("_NET_ACTIVE_WINDOW", XA_WINDOW);
    return v.empty() ? 0ul : v[0];
  };
  ASSERT_TRUE(comp_->create_window(1, normal({50, 50, 200, 150})));
  present();
  ASSERT_TRUE(wait_for([&] { return wm_state(1) == NormalState; })) << "window never managed";
  EXPECT_TRUE(wait_for([&] { return active() == backend_->native_window(1); }))
      << "openbox focuses a new window the user asked for";

  WindowDesc quiet = normal({300, 200, 200, 150});
  quiet.title = "unasked";
  quiet.focus_on_map = false;
  ASSERT_TRUE(comp_->create_window(2, quiet));
  present();
  ASSERT_TRUE(wait_for([&] { return wm_state(2) == NormalState; })) << "window never managed";
  EXPECT_EQ(property(backend_->native_window(2), "_NET_WM_USER_TIME", XA_CARDINAL), std::vector<unsigned long>{0});
  // Openbox decides on map; give it time to (wrongly) focus before looking.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  (void)wait_for([] { return true; });
  EXPECT_EQ(active(), backend_->native_window(1)) << "the unasked window took focus";
  ::Window focus = 0;
  int revert = 0;
  XGetInputFocus(peer_, &focus, &revert);
  EXPECT_NE(focus, backend_->native_window(2));
  EXPECT_EQ(backend_->x_errors(), 0u);
}

}  // namespace
}  // namespace vitrine::compositor
