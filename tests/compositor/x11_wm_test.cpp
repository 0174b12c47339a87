// X11 backend under a private Xvfb with a real EWMH window manager, once per manager packaged
// in Debian 12 that CI installs (openbox, metacity; both reparent every managed window into a
// frame). Each operation is checked with X queries from a second connection, after waiting
// (bounded) for the asynchronous manager: geometry of the client window (XGetGeometry +
// XTranslateCoordinates), stacking (the root's children, i.e. the frames, from XQueryTree, and
// the manager's _NET_CLIENT_LIST_STACKING), state (WM_STATE, _NET_WM_STATE), taskbar
// properties. Requests a taskbar or pager sends to the manager come back to the InputSink.
// Skipped when Xvfb or the manager is missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
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
  [[nodiscard]] bool asked(WindowId id, WindowState s) const {
    return std::find(states.begin(), states.end(), std::pair{id, s}) != states.end();
  }
};

std::string str(const HostRect& r) {
  return std::to_string(r.x) + "," + std::to_string(r.y) + " " + std::to_string(r.width) + "x" +
         std::to_string(r.height);
}

HostRect host(const DesktopRect& r) { return {r.x, r.y, r.width, r.height}; }

class X11WithWindowManager : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    testing::use_software_gl();
    const std::string wm = GetParam();
    if (xvfb_.display().empty()) GTEST_SKIP() << xvfb_.why();
    if (std::system(("command -v " + wm + " >/dev/null 2>&1").c_str()) != 0) {
      GTEST_SKIP() << wm << " not installed (scripts/deps/compositor.txt lists it)";
    }
    peer_ = XOpenDisplay(xvfb_.display().c_str());
    ASSERT_NE(peer_, nullptr);
    wm_ = fork();
    if (wm_ == 0) {
      setenv("DISPLAY", xvfb_.display().c_str(), 1);
      execlp(wm.c_str(), wm.c_str(), "--sm-disable", static_cast<char*>(nullptr));
      _exit(127);
    }
    ASSERT_GT(wm_, 0);
    // The window manager is up once it advertises itself on the root window (EWMH) and manages
    // a window. The advertisement alone is not enough: openbox sets it before its start-up is
    // over and loses the MapRequests of that time (the first window then stays unmanaged,
    // about 1 run in 20, nearly always for a window mapped at once). So a probe window is
    // mapped again until the manager gives it a WM_STATE.
    ASSERT_TRUE(wait_for([&] { return !root_property("_NET_SUPPORTING_WM_CHECK", XA_WINDOW).empty(); }))
        << wm << " did not start";
    const ::Window probe = XCreateSimpleWindow(peer_, DefaultRootWindow(peer_), 0, 0, 16, 16, 0, 0, 0);
    bool managed = false;
    for (int tries = 0; tries < 240 && !managed; ++tries) {
      XUnmapWindow(peer_, probe);
      XMapWindow(peer_, probe);
      managed = wait_for([&] { return !property(probe, "WM_STATE", atom("WM_STATE")).empty(); },
                         std::chrono::milliseconds(250));
    }
    XDestroyWindow(peer_, probe);
    XSync(peer_, False);
    ASSERT_TRUE(managed) << wm << " manages no window";
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
  ::Window xid(WindowId id) const { return backend_->native_window(id); }
  std::vector<unsigned long> property(::Window w, const char* name, Atom type) {
    Atom actual = 0;
    int format = 0;
    unsigned long n = 0, after = 0;
    unsigned char* data = nullptr;
    std::vector<unsigned long> out;
    if (XGetWindowProperty(peer_, w, atom(name), 0, 1 << 16, False, type, &actual, &format, &n, &after, &data) ==
            Success && data != nullptr) {
      if (format == 32) {
        for (unsigned long i = 0; i < n; ++i) out.push_back(reinterpret_cast<unsigned long*>(data)[i] & 0xffffffffUL);
      }
      XFree(data);
    }
    return out;
  }
  std::string text_property(::Window w, const char* name, Atom type) {
    Atom actual = 0;
    int format = 0;
    unsigned long n = 0, after = 0;
    unsigned char* data = nullptr;
    std::string out;
    if (XGetWindowProperty(peer_, w, atom(name), 0, 1024, False, type, &actual, &format, &n, &after, &data) ==
            Success && data != nullptr) {
      if (format == 8) out.assign(reinterpret_cast<const char*>(data), n);
      XFree(data);
    }
    return out;
  }
  std::vector<unsigned long> root_property(const char* name, Atom type) {
    return property(DefaultRootWindow(peer_), name, type);
  }
  bool has_state(WindowId id, const char* state) {
    auto atoms = property(xid(id), "_NET_WM_STATE", XA_ATOM);
    return std::find(atoms.begin(), atoms.end(), atom(state)) != atoms.end();
  }
  bool maximized(WindowId id) {
    return has_state(id, "_NET_WM_STATE_MAXIMIZED_VERT") && has_state(id, "_NET_WM_STATE_MAXIMIZED_HORZ");
  }
  std::string state_text(WindowId id) {  // for failure messages
    std::string s = "WM_STATE " + std::to_string(wm_state(id)) + ", _NET_WM_STATE";
    for (unsigned long a : property(xid(id), "_NET_WM_STATE", XA_ATOM)) {
      char* name = XGetAtomName(peer_, a);
      s += std::string(" ") + (name != nullptr ? name : "?");
      XFree(name);
    }
    return s;
  }
  std::string moves_text() {  // for failure messages
    std::string s = "; moves reported:";
    for (const auto& [id, r] : sink_.moves) s += " " + std::to_string(id) + "@" + str(host(r));
    return s;
  }
  long wm_state(WindowId id) {  // ICCCM WM_STATE: 1 normal, 3 iconic, -1 none
    auto v = property(xid(id), "WM_STATE", atom("WM_STATE"));
    return v.empty() ? -1 : static_cast<long>(v[0]);
  }
  // The client window's area on the root (host coordinates), wherever the frame put it.
  HostRect client_rect(WindowId id) {
    ::Window root = 0, child = 0;
    int x = 0, y = 0;
    unsigned w = 0, h = 0, border = 0, depth = 0;
    if (XGetGeometry(peer_, xid(id), &root, &x, &y, &w, &h, &border, &depth) == 0) return {};
    XTranslateCoordinates(peer_, xid(id), root, 0, 0, &x, &y, &child);
    return {x, y, static_cast<std::int32_t>(w), static_cast<std::int32_t>(h)};
  }
  // The root's child holding a window: its frame under a reparenting manager (0 if none).
  ::Window top_level(::Window w) {
    const ::Window root = DefaultRootWindow(peer_);
    for (;;) {
      ::Window r = 0, parent = 0, *children = nullptr;
      unsigned n = 0;
      if (XQueryTree(peer_, w, &r, &parent, &children, &n) == 0) return 0;
      if (children != nullptr) XFree(children);
      if (parent == root) return w;
      w = parent;
    }
  }
  // Our windows in the X server's own stacking order (root's children), bottom to top. The
  // server is grabbed so that the manager cannot reparent or destroy while we walk the tree.
  std::vector<WindowId> x_stacking(const std::vector<WindowId>& ids) {
    XGrabServer(peer_);
    std::map<::Window, WindowId> frames;
    for (WindowId id : ids) frames[top_level(xid(id))] = id;
    std::vector<WindowId> out;
    ::Window r = 0, parent = 0, *children = nullptr;
    unsigned n = 0;
    if (XQueryTree(peer_, DefaultRootWindow(peer_), &r, &parent, &children, &n) != 0 && children != nullptr) {
      for (unsigned i = 0; i < n; ++i) {
        if (auto it = frames.find(children[i]); it != frames.end() && it->first != 0) out.push_back(it->second);
      }
      XFree(children);
    }
    XUngrabServer(peer_);
    XSync(peer_, False);
    return out;
  }
  // The manager's own view (EWMH _NET_CLIENT_LIST_STACKING), bottom to top.
  std::vector<WindowId> wm_stacking(const std::vector<WindowId>& ids) {
    std::vector<WindowId> out;
    for (unsigned long w : root_property("_NET_CLIENT_LIST_STACKING", XA_WINDOW)) {
      for (WindowId id : ids) {
        if (xid(id) == w) out.push_back(id);
      }
    }
    return out;
  }
  bool stacked(const std::vector<WindowId>& bottom_to_top) {
    return x_stacking(bottom_to_top) == bottom_to_top && wm_stacking(bottom_to_top) == bottom_to_top;
  }
  std::string stacking_text(const std::vector<WindowId>& ids) {
    std::string s = "X:";
    for (WindowId id : x_stacking(ids)) s += " " + std::to_string(id);
    s += " / _NET_CLIENT_LIST_STACKING:";
    for (WindowId id : wm_stacking(ids)) s += " " + std::to_string(id);
    return s + " (bottom to top)";
  }
  // A message to the manager, as a taskbar or pager sends it (EWMH "Root Window Messages").
  void ask_window_manager(WindowId id, const char* type, long l0, long l1 = 0, long l2 = 0, long l3 = 0) {
    XEvent e{};
    e.xclient.type = ClientMessage;
    e.xclient.window = xid(id);
    e.xclient.message_type = atom(type);
    e.xclient.format = 32;
    e.xclient.data.l[0] = l0;
    e.xclient.data.l[1] = l1;
    e.xclient.data.l[2] = l2;
    e.xclient.data.l[3] = l3;
    XSendEvent(peer_, DefaultRootWindow(peer_), False, SubstructureRedirectMask | SubstructureNotifyMask, &e);
    XSync(peer_, False);
  }
  // Dispatches the backend's events until `done()` or `bound` (the window manager is
  // asynchronous; the bound only ends a test that would otherwise hang, so it is generous: CI
  // machines run other jobs meanwhile).
  template <typename F>
  bool wait_for(F done, std::chrono::milliseconds bound = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
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
  // The caller applies a state (the guest agreed); synced, so that the window manager gets our
  // requests before the next one the test sends as a taskbar (two clients: no order otherwise).
  void apply_state(WindowId id, WindowState s) {
    ASSERT_TRUE(comp_->set_state(id, s));
    backend_->sync();
  }
  // Creates a window and waits until the manager manages it (WM_STATE Normal, in its list).
  void create_managed(WindowId id, const WindowDesc& d) {
    ASSERT_TRUE(comp_->create_window(id, d));
    present();
    ASSERT_TRUE(wait_for([&] { return wm_state(id) == NormalState && !wm_stacking({id}).empty(); }))
        << "window " << id << " never managed by " << GetParam() << ": " << state_text(id) << ", "
        << stacking_text({id});
  }

  testing::XvfbServer xvfb_{800, 600};
  pid_t wm_ = -1;
  StateSink sink_;
  X11Backend* backend_ = nullptr;
  std::unique_ptr<Compositor> comp_;
  Display* peer_ = nullptr;
  Framebuffer fb_{800, 600};
};

WindowDesc normal(DesktopRect r, const char* title = "managed") {
  WindowDesc d;
  d.rect = r;
  d.title = title;
  return d;
}

// The client area lands exactly where the guest asked, whatever frame the manager adds.
TEST_P(X11WithWindowManager, CreateMoveAndResizeLandWhereTheGuestAsked) {
  const DesktopRect rects[] = {{100, 80, 200, 150}, {260, 210, 200, 150}, {260, 210, 320, 120}, {40, 300, 150, 90}};
  ASSERT_NO_FATAL_FAILURE(create_managed(1, normal(rects[0])));
  for (const DesktopRect& r : rects) {
    ASSERT_TRUE(comp_->set_rect(1, r));
    present();
    EXPECT_TRUE(wait_for([&] { return client_rect(1) == host(r); }))
        << "asked " << str(host(r)) << ", client at " << str(client_rect(1));
  }
  EXPECT_EQ(backend_->x_errors(), 0u);
}

// Guest-side maximize / minimize / restore: WM_STATE, _NET_WM_STATE and the client's geometry
// follow, and none of our own changes is reported back as a request.
TEST_P(X11WithWindowManager, GuestMaximizeMinimizeRestore) {
  const DesktopRect r{100, 100, 200, 150};
  ASSERT_NO_FATAL_FAILURE(create_managed(1, normal(r)));

  ASSERT_TRUE(comp_->set_state(1, WindowState::kMinimized));
  EXPECT_TRUE(wait_for([&] { return wm_state(1) == IconicState && has_state(1, "_NET_WM_STATE_HIDDEN"); }));
  ASSERT_TRUE(comp_->set_state(1, WindowState::kNormal));
  present();
  EXPECT_TRUE(wait_for([&] { return wm_state(1) == NormalState && !has_state(1, "_NET_WM_STATE_HIDDEN"); }));

  ASSERT_TRUE(comp_->set_state(1, WindowState::kMaximized));
  EXPECT_TRUE(wait_for([&] { return maximized(1) && client_rect(1) == HostRect{0, 0, 800, 600}; }))
      << "maximized client at " << str(client_rect(1)) << ", " << state_text(1) << moves_text();
  ASSERT_TRUE(comp_->set_state(1, WindowState::kNormal));
  EXPECT_TRUE(wait_for([&] { return !has_state(1, "_NET_WM_STATE_MAXIMIZED_VERT") && client_rect(1) == host(r); }))
      << "restored client at " << str(client_rect(1));
  for (const auto& [id, s] : sink_.states) ADD_FAILURE() << "unexpected state request " << static_cast<int>(s);
  EXPECT_EQ(backend_->x_errors(), 0u);
}

// Host-side requests (a taskbar's or pager's client messages) reach the sink as requests; the
// scene changes only when the caller applies them, and the window then follows.
TEST_P(X11WithWindowManager, TaskbarMaximizeMinimizeRestoreComeBackAsRequests) {
  ASSERT_NO_FATAL_FAILURE(create_managed(1, normal({50, 50, 120, 90})));
  ask_window_manager(1, "_NET_WM_STATE", 1, static_cast<long>(atom("_NET_WM_STATE_MAXIMIZED_VERT")),
                     static_cast<long>(atom("_NET_WM_STATE_MAXIMIZED_HORZ")), 2);
  ASSERT_TRUE(wait_for([&] { return sink_.asked(1, WindowState::kMaximized); })) << "no maximize request";
  EXPECT_EQ(comp_->scene().find(1)->desc.state, WindowState::kNormal);  // the guest decides
  ASSERT_NO_FATAL_FAILURE(apply_state(1, WindowState::kMaximized));
  EXPECT_TRUE(wait_for([&] { return maximized(1) && client_rect(1) == HostRect{0, 0, 800, 600}; }));

  sink_.states.clear();
  ask_window_manager(1, "_NET_WM_STATE", 0, static_cast<long>(atom("_NET_WM_STATE_MAXIMIZED_VERT")),
                     static_cast<long>(atom("_NET_WM_STATE_MAXIMIZED_HORZ")), 2);
  ASSERT_TRUE(wait_for([&] { return sink_.asked(1, WindowState::kNormal); })) << "no restore request";
  ASSERT_NO_FATAL_FAILURE(apply_state(1, WindowState::kNormal));
  EXPECT_TRUE(wait_for([&] { return !maximized(1) && client_rect(1) == HostRect{50, 50, 120, 90}; }))
      << "restored client at " << str(client_rect(1));

  sink_.states.clear();
  ask_window_manager(1, "WM_CHANGE_STATE", IconicState);  // ICCCM 4.1.4, xdotool windowminimize
  ASSERT_TRUE(wait_for([&] { return sink_.asked(1, WindowState::kMinimized); })) << "no minimize request";
  EXPECT_EQ(comp_->scene().find(1)->desc.state, WindowState::kNormal);
  ASSERT_NO_FATAL_FAILURE(apply_state(1, WindowState::kMinimized));
  EXPECT_TRUE(wait_for([&] { return wm_state(1) == IconicState && has_state(1, "_NET_WM_STATE_HIDDEN"); }));

  sink_.states.clear();
  ask_window_manager(1, "_NET_ACTIVE_WINDOW", 2, CurrentTime);  // a taskbar click restores it
  ASSERT_TRUE(wait_for([&] { return sink_.asked(1, WindowState::kNormal); })) << "no restore request";
  ASSERT_NO_FATAL_FAILURE(apply_state(1, WindowState::kNormal));
  present();
  EXPECT_TRUE(wait_for([&] { return wm_state(1) == NormalState && !has_state(1, "_NET_WM_STATE_HIDDEN"); }));
  EXPECT_EQ(backend_->x_errors(), 0u);
}

// The compositor's z-order is the manager's stacking order, frames included (a reparenting
// manager's frames are the root's children, so X's order is the frames').
TEST_P(X11WithWindowManager, ZOrderIsTheWindowManagersStackingOrder) {
  ASSERT_NO_FATAL_FAILURE(create_managed(1, normal({50, 50, 300, 200}, "one")));
  ASSERT_NO_FATAL_FAILURE(create_managed(2, normal({100, 100, 300, 200}, "two")));
  ASSERT_NO_FATAL_FAILURE(create_managed(3, normal({150, 150, 300, 200}, "three")));
  const std::vector<WindowId> all{1, 2, 3};
  EXPECT_TRUE(wait_for([&] { return stacked({1, 2, 3}); })) << stacking_text(all);

  const WindowId top_to_bottom[] = {1, 3, 2};
  comp_->set_z_order(top_to_bottom);
  EXPECT_TRUE(wait_for([&] { return stacked({2, 3, 1}); })) << stacking_text(all);
  ASSERT_TRUE(comp_->raise(2));
  EXPECT_TRUE(wait_for([&] { return stacked({3, 1, 2}); })) << stacking_text(all);
  ASSERT_TRUE(comp_->raise(3));
  EXPECT_TRUE(wait_for([&] { return stacked({1, 2, 3}); })) << stacking_text(all);
  const WindowId two_first[] = {2, 1};
  comp_->set_z_order(two_first);
  EXPECT_TRUE(wait_for([&] { return stacked({3, 1, 2}); })) << stacking_text(all);
  EXPECT_EQ(backend_->x_errors(), 0u);
}

// WM_TRANSIENT_FOR: a dialog stays above its owner when the owner is raised.
TEST_P(X11WithWindowManager, ADialogStaysAboveItsOwnerWhenTheOwnerIsRaised) {
  ASSERT_NO_FATAL_FAILURE(create_managed(1, normal({50, 50, 400, 300}, "owner")));
  WindowDesc dialog = normal({150, 120, 200, 100}, "dialog");
  dialog.owner = 1;
  ASSERT_NO_FATAL_FAILURE(create_managed(2, dialog));
  ASSERT_NO_FATAL_FAILURE(create_managed(3, normal({300, 200, 300, 200}, "other")));
  EXPECT_EQ(property(xid(2), "WM_TRANSIENT_FOR", XA_WINDOW), std::vector<unsigned long>{xid(1)});
  const std::vector<WindowId> all{1, 2, 3};
  ASSERT_TRUE(comp_->raise(1));
  EXPECT_TRUE(wait_for([&] { return stacked({3, 1, 2}); })) << stacking_text(all);
  ASSERT_TRUE(comp_->raise(3));
  EXPECT_TRUE(wait_for([&] { return stacked({1, 2, 3}); })) << stacking_text(all);
  const WindowId owner_first[] = {1, 2, 3};  // a guest z-order with the owner above its dialog
  comp_->set_z_order(owner_first);
  EXPECT_TRUE(wait_for([&] { return stacked({3, 1, 2}); })) << stacking_text(all);
  EXPECT_EQ(backend_->x_errors(), 0u);
}

// A window the guest destroyed leaves nothing behind: no client window with its WM_CLASS and
// no frame (the manager's list no longer has it either).
TEST_P(X11WithWindowManager, ADestroyedWindowLeavesNoXWindow) {
  WindowDesc gone = normal({50, 50, 200, 150}, "gone");
  gone.app_id = "vitrine-gone";
  ASSERT_NO_FATAL_FAILURE(create_managed(1, gone));
  ASSERT_NO_FATAL_FAILURE(create_managed(2, normal({300, 200, 200, 150}, "stays")));
  const ::Window frame = top_level(xid(1));
  ASSERT_NE(frame, 0u);
  // Every window on the screen whose WM_CLASS class is `klass` (server grabbed: see x_stacking).
  auto with_class = [&](const char* klass) {
    XGrabServer(peer_);
    std::vector<::Window> found, pending{DefaultRootWindow(peer_)};
    while (!pending.empty()) {
      const ::Window w = pending.back();
      pending.pop_back();
      XClassHint hint{};
      if (XGetClassHint(peer_, w, &hint) != 0) {
        if (hint.res_class != nullptr && std::string(hint.res_class) == klass) found.push_back(w);
        XFree(hint.res_name);
        XFree(hint.res_class);
      }
      ::Window r = 0, parent = 0, *children = nullptr;
      unsigned n = 0;
      if (XQueryTree(peer_, w, &r, &parent, &children, &n) != 0 && children != nullptr) {
        pending.insert(pending.end(), children, children + n);
        XFree(children);
      }
    }
    XUngrabServer(peer_);
    XSync(peer_, False);
    return found;
  };
  ASSERT_EQ(with_class("vitrine-gone").size(), 1u);
  ASSERT_TRUE(comp_->destroy_window(1));
  EXPECT_EQ(backend_->native_window(1), 0u);
  EXPECT_TRUE(wait_for([&] { return with_class("vitrine-gone").empty() && x_stacking({2}).size() == 1; }));
  EXPECT_TRUE(wait_for([&] {
    auto clients = root_property("_NET_CLIENT_LIST", XA_WINDOW);
    auto frames = x_stacking({2});
    XGrabServer(peer_);
    ::Window r = 0, parent = 0, *children = nullptr;
    unsigned n = 0;
    bool frame_left = false;
    if (XQueryTree(peer_, DefaultRootWindow(peer_), &r, &parent, &children, &n) != 0 && children != nullptr) {
      frame_left = std::find(children, children + n, frame) != children + n;
      XFree(children);
    }
    XUngrabServer(peer_);
    XSync(peer_, False);
    return !frame_left && clients.size() == 1 && frames.size() == 1;
  })) << "the frame or the manager's client list still holds the destroyed window";
  EXPECT_EQ(with_class("vitrine").size(), 1u);  // window 2 (app_id "vitrine") is still there
  EXPECT_EQ(backend_->x_errors(), 0u);
}

// What a taskbar shows: _NET_WM_NAME (UTF-8), WM_CLASS (instance "vitrine", class app_id) and
// _NET_WM_ICON, after create and after each change.
TEST_P(X11WithWindowManager, TaskbarNameClassAndIcon) {
  WindowDesc d = normal({50, 50, 200, 150}, "Notepad \xe2\x80\x94 a.txt");
  d.app_id = "notepad";
  ASSERT_NO_FATAL_FAILURE(create_managed(1, d));
  const Atom utf8 = atom("UTF8_STRING");
  EXPECT_EQ(text_property(xid(1), "_NET_WM_NAME", utf8), "Notepad \xe2\x80\x94 a.txt");
  XClassHint hint{};
  ASSERT_NE(XGetClassHint(peer_, xid(1), &hint), 0);
  EXPECT_STREQ(hint.res_name, "vitrine");
  EXPECT_STREQ(hint.res_class, "notepad");
  XFree(hint.res_name);
  XFree(hint.res_class);

  ASSERT_TRUE(comp_->set_title(1, "Notepad - b.txt"));
  EXPECT_TRUE(wait_for([&] { return text_property(xid(1), "_NET_WM_NAME", utf8) == "Notepad - b.txt"; }));
  EXPECT_EQ(text_property(xid(1), "WM_NAME", XA_STRING), "Notepad - b.txt");

  Icon icon{2, 2, {0xff0000ffu, 0xff00ff00u, 0xffff0000u, 0x80ffffffu}};
  ASSERT_TRUE(comp_->set_icon(1, icon));
  backend_->sync();
  EXPECT_EQ(property(xid(1), "_NET_WM_ICON", XA_CARDINAL),
            (std::vector<unsigned long>{2, 2, 0xff0000ffu, 0xff00ff00u, 0xffff0000u, 0x80ffffffu}));
  const auto ours = property(xid(1), "_NET_WM_ICON", XA_CARDINAL);
  ASSERT_TRUE(comp_->set_icon(1, Icon{}));
  // Removed; openbox then puts its default icon there for pagers, so "not ours", not "empty".
  EXPECT_TRUE(wait_for([&] { return property(xid(1), "_NET_WM_ICON", XA_CARDINAL) != ours; }));
  EXPECT_EQ(backend_->x_errors(), 0u);
}

// Issue 17 (5): a guest window that no host input asked for (WindowDesc::focus_on_map false:
// _NET_WM_USER_TIME 0) is mapped without taking focus from what the user is typing into; one the
// user just launched or clicked is focused as usual. Both managers focus new windows by
// default, so the first window shows that the manager would have focused the second.
TEST_P(X11WithWindowManager, AWindowNoHostInputAskedForIsMappedWithoutFocus) {
  auto active = [&] {
    auto v = root_property("_NET_ACTIVE_WINDOW", XA_WINDOW);
    return v.empty() ? 0ul : v[0];
  };
  ASSERT_NO_FATAL_FAILURE(create_managed(1, normal({50, 50, 200, 150})));
  EXPECT_TRUE(wait_for([&] { return active() == xid(1); })) << GetParam() << " focuses a new window the user asked for";

  WindowDesc quiet = normal({300, 200, 200, 150}, "unasked");
  quiet.focus_on_map = false;
  ASSERT_NO_FATAL_FAILURE(create_managed(2, quiet));
  EXPECT_EQ(property(xid(2), "_NET_WM_USER_TIME", XA_CARDINAL), std::vector<unsigned long>{0});
  // The manager decides on map; give it time to (wrongly) focus before looking.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  (void)wait_for([] { return true; });
  EXPECT_EQ(active(), xid(1)) << "the unasked window took focus";
  ::Window focus = 0;
  int revert = 0;
  XGetInputFocus(peer_, &focus, &revert);
  EXPECT_NE(focus, xid(2));
  EXPECT_EQ(backend_->x_errors(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Managers, X11WithWindowManager, ::testing::Values("openbox", "metacity"),
                         [](const auto& wm) { return std::string(wm.param); });

}  // namespace
}  // namespace vitrine::compositor
