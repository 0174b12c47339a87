// vitrine-appserver end to end: real applications in a guest Xvfb, the real xfreerdp RemoteApp
// client on a second Xvfb. Each guest window must appear as its own client X window with the
// same geometry and identical pixels (lossless codec), typed keys must reach xterm, popups must
// be override-redirect, and hostile or vanishing clients must leave the server serving.
#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "support/child_process.hpp"
#include "support/wait_for.hpp"
#include "support/xvfb.hpp"

#ifndef VITRINE_APPSERVER_BIN
#error "VITRINE_APPSERVER_BIN must name the vitrine-appserver binary"
#endif

namespace vitrine::appserver::testing {
namespace {

using namespace std::chrono_literals;

struct ClientWindow {
  Window handle = 0;
  unsigned long guest_id = 0;  // from WM_CLASS "RAIL:%08X"
  int x = 0, y = 0, w = 0, h = 0;
  bool override_redirect = false;
  bool viewable = false;
};

// xfreerdp names every RemoteApp window's class "RAIL:<server window id in hex>".
std::vector<ClientWindow> client_windows(Display* dpy) {
  std::vector<ClientWindow> out;
  Window root_ret = 0, parent = 0, *children = nullptr;
  unsigned n = 0;
  XSync(dpy, False);
  if (!XQueryTree(dpy, DefaultRootWindow(dpy), &root_ret, &parent, &children, &n)) return out;
  for (unsigned i = 0; i < n; ++i) {
    XClassHint hint{};
    if (!XGetClassHint(dpy, children[i], &hint)) continue;
    const std::string cls = hint.res_class ? hint.res_class : "";
    if (hint.res_name) XFree(hint.res_name);
    if (hint.res_class) XFree(hint.res_class);
    if (!cls.starts_with("RAIL:")) continue;
    XWindowAttributes a{};
    if (!XGetWindowAttributes(dpy, children[i], &a)) continue;
    ClientWindow cw;
    cw.handle = children[i];
    cw.guest_id = std::stoul(cls.substr(5), nullptr, 16);
    cw.x = a.x;
    cw.y = a.y;
    cw.w = a.width + 2 * a.border_width;
    cw.h = a.height + 2 * a.border_width;
    cw.override_redirect = a.override_redirect;
    cw.viewable = a.map_state == IsViewable;
    out.push_back(cw);
  }
  if (children) XFree(children);
  return out;
}

struct GuestWindow {
  Window id = 0;
  int x = 0, y = 0, w = 0, h = 0;
};

std::optional<GuestWindow> guest_window_by_class(Display* dpy, const std::string& wanted) {
  Window root_ret = 0, parent = 0, *children = nullptr;
  unsigned n = 0;
  XSync(dpy, False);
  if (!XQueryTree(dpy, DefaultRootWindow(dpy), &root_ret, &parent, &children, &n)) return std::nullopt;
  std::optional<GuestWindow> found;
  for (unsigned i = 0; i < n && !found; ++i) {
    XClassHint hint{};
    if (!XGetClassHint(dpy, children[i], &hint)) continue;
    const bool match = hint.res_class && wanted == hint.res_class;
    if (hint.res_name) XFree(hint.res_name);
    if (hint.res_class) XFree(hint.res_class);
    XWindowAttributes a{};
    if (match && XGetWindowAttributes(dpy, children[i], &a) && a.map_state == IsViewable)
      found = GuestWindow{children[i], a.x, a.y, a.width + 2 * a.border_width, a.height + 2 * a.border_width};
  }
  if (children) XFree(children);
  return found;
}

// A bare TCP connection to the server.
int connect_tcp(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// X.224 Connection Request with an RDP Negotiation Request for standard RDP security
// (MS-RDPBCGR 2.2.1.1). A live server answers with a TPKT-framed Connection Confirm.
const std::vector<uint8_t> kConnectionRequest = {0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00,
                                                 0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};

bool server_answers_connection_request(uint16_t port) {
  const int fd = connect_tcp(port);
  if (fd < 0) return false;
  bool ok = ::send(fd, kConnectionRequest.data(), kConnectionRequest.size(), MSG_NOSIGNAL) ==
            ssize_t(kConnectionRequest.size());
  uint8_t reply[64] = {};
  pollfd p{fd, POLLIN, 0};
  ok = ok && ::poll(&p, 1, 5000) == 1 && ::recv(fd, reply, sizeof(reply), 0) >= 4 && reply[0] == 0x03 &&
       reply[1] == 0x00;
  ::close(fd);
  return ok;
}

class AppServerE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* p : {"Xvfb", "xfreerdp", "xterm", "xlogo", "xclock", "xdotool"}) {
      if (!have_program(p)) GTEST_SKIP() << p << " not installed (scripts/deps/appserver.txt)";
    }
    guest_ = Xvfb::start(1024, 768);
    client_ = Xvfb::start(1024, 768);
    if (!guest_ || !client_) GTEST_SKIP() << "Xvfb did not start";
    dir_ = std::filesystem::temp_directory_path() /
           ("vitrine-appserver-e2e-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    clients_.clear();
    server_ = ChildProcess();
    apps_.clear();
    client_.reset();
    guest_.reset();
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  ChildOptions guest_env() const {
    ChildOptions o;
    o.env = {{"DISPLAY", guest_->display()}, {"SHELL", "/bin/sh"}, {"HOME", dir_.string()}};
    o.stderr_path = "/dev/null";
    return o;
  }

  void start_app(const std::vector<std::string>& argv) { apps_.emplace_back(argv, guest_env()); }

  // Starts the server on a free port; extra arguments appended.
  void start_server(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {VITRINE_APPSERVER_BIN, "--display", guest_->display(), "--port", "0",
                                     "--verbose", "--app",
                                     "xterm=xterm -geometry 60x8+300+400 -e sh", "--app",
                                     "flood=xterm -geometry 80x24+0+300 -e sh -c 'while :; do ls -lR /usr; done'"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ChildOptions o = guest_env();
    o.capture_stdout = true;
    o.stderr_path = (dir_ / "appserver.log").string();
    o.env["HOME"] = dir_.string();
    server_ = ChildProcess(argv, o);
    const auto line = server_.read_line_starting("vitrine-appserver listening on", 10s);
    ASSERT_TRUE(line) << "server did not start; log: " << log();
    port_ = static_cast<uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  }

  // xfreerdp 2.11 sets _NET_WM_STATE on popup and dialog windows with the atom it found in the
  // root's _NET_SUPPORTED list; on a bare X server (no EWMH window manager) that atom is None
  // and the client dies with BadAtom. Advertise the EWMH atoms it needs, as any desktop's
  // window manager does.
  void advertise_ewmh_on_client() {
    Display* c = client_->connection();
    const char* names[] = {"_NET_WM_STATE", "_NET_WM_STATE_SKIP_TASKBAR", "_NET_WM_STATE_SKIP_PAGER",
                           "_NET_WM_STATE_MAXIMIZED_HORZ", "_NET_WM_STATE_MAXIMIZED_VERT", "_NET_WM_WINDOW_TYPE"};
    std::vector<Atom> atoms;
    for (const char* n : names) atoms.push_back(XInternAtom(c, n, False));
    XInternAtom(c, "_NET_SUPPORTING_WM_CHECK", False);
    XChangeProperty(c, DefaultRootWindow(c), XInternAtom(c, "_NET_SUPPORTED", False), XA_ATOM, 32, PropModeReplace,
                    reinterpret_cast<unsigned char*>(atoms.data()), int(atoms.size()));
    XSync(c, False);
  }

  ChildProcess& start_client(const std::string& app, std::vector<std::string> extra = {}) {
    advertise_ewmh_on_client();
    std::vector<std::string> argv = {"xfreerdp", "/v:127.0.0.1:" + std::to_string(port_), "/sec:rdp",
                                     "/cert:ignore", "/u:vitrine", "/p:x", "/app:||" + app};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ChildOptions o;
    o.env = {{"DISPLAY", client_->display()}, {"HOME", dir_.string()}};
    o.stderr_path = (dir_ / ("xfreerdp-" + std::to_string(clients_.size()) + ".log")).string();
    clients_.emplace_back(argv, o);
    return clients_.back();
  }

  std::string log() const {
    // stdio, not istreambuf_iterator: GCC 12 -O2 flags the latter with -Wnull-dereference.
    std::string out;
    if (std::FILE* f = std::fopen((dir_ / "appserver.log").c_str(), "r")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
      std::fclose(f);
    }
    return out;
  }

  std::optional<ClientWindow> client_window_for(unsigned long guest_id) {
    for (const ClientWindow& c : client_windows(client_->connection())) {
      if (c.guest_id == guest_id && c.viewable) return c;
    }
    return std::nullopt;
  }

  // Waits until the client shows guest window `g` with identical geometry and pixels.
  ::testing::AssertionResult window_matches(const GuestWindow& g) {
    std::optional<ClientWindow> c;
    std::string why = "no client window";
    const bool ok = wait_for(
        [&] {
          c = client_window_for(g.id);
          if (!c) return false;
          if (c->x != g.x || c->y != g.y || c->w != g.w || c->h != g.h) {
            why = "geometry " + std::to_string(c->w) + "x" + std::to_string(c->h) + "+" + std::to_string(c->x) +
                  "+" + std::to_string(c->y);
            return false;
          }
          const auto want = read_pixels(guest_->connection(), DefaultRootWindow(guest_->connection()), g.x, g.y, g.w, g.h);
          // What the user sees: the client's screen at the window's place (XGetImage of an
          // obscured window returns undefined pixels; the screen also checks the z-order).
          const auto got = read_pixels(client_->connection(), DefaultRootWindow(client_->connection()), c->x, c->y,
                                       c->w, c->h);
          if (want.empty() || want != got) {
            size_t diff = 0;
            size_t first = want.size();
            for (size_t i = 0; i < std::min(want.size(), got.size()); ++i) {
              if (want[i] != got[i] && first == want.size()) first = i;
              diff += want[i] != got[i];
            }
            why = "pixels differ: " + std::to_string(diff) + " of " + std::to_string(want.size());
            if (first < want.size() && first < got.size() && g.w > 0) {
              char buf[96];
              std::snprintf(buf, sizeof(buf), ", first at (%d,%d): guest %06x client %06x", int(first % size_t(g.w)),
                            int(first / size_t(g.w)), want[first], got[first]);
              why += buf;
              const int fx = g.x + int(first % size_t(g.w));
              const int fy = g.y + int(first / size_t(g.w));
              const auto on_screen = read_pixels(client_->connection(), DefaultRootWindow(client_->connection()), fx, fy, 1, 1);
              if (!on_screen.empty()) {
                std::snprintf(buf, sizeof(buf), "; client screen there %06x", on_screen[0]);
                why += buf;
              }
            }
            return false;
          }
          return true;
        },
        15s);
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "guest window " << std::hex << g.id << std::dec << " " << g.w << "x"
                                         << g.h << "+" << g.x << "+" << g.y << ": " << why;
  }

  std::unique_ptr<Xvfb> guest_;
  std::unique_ptr<Xvfb> client_;
  std::filesystem::path dir_;
  std::vector<ChildProcess> apps_;
  ChildProcess server_;
  std::vector<ChildProcess> clients_;
  uint16_t port_ = 0;
};

TEST_F(AppServerE2E, EachApplicationWindowAppearsWithSameGeometryAndIdenticalPixels) {
  start_app({"xlogo", "-geometry", "200x150+50+60"});
  start_app({"xclock", "-geometry", "150x150+600+60"});
  std::optional<GuestWindow> logo, clock;
  ASSERT_TRUE(wait_for([&] { return (logo = guest_window_by_class(guest_->connection(), "XLogo")) &&
                                    (clock = guest_window_by_class(guest_->connection(), "XClock")); }, 10s));
  start_server();
  start_client("xterm");  // the exec request launches xterm in the guest
  std::optional<GuestWindow> term;
  ASSERT_TRUE(wait_for([&] { return (term = guest_window_by_class(guest_->connection(), "XTerm")).has_value(); }, 15s))
      << log();
  EXPECT_TRUE(window_matches(*logo)) << log();
  EXPECT_TRUE(window_matches(*clock));
  EXPECT_TRUE(window_matches(*term));
  // Separate client windows, one per guest window, none override-redirect.
  const auto cws = client_windows(client_->connection());
  EXPECT_EQ(cws.size(), 3u);
  for (const ClientWindow& c : cws) EXPECT_FALSE(c.override_redirect);

  // A guest window that moves and one that goes away follow on the client.
  XMoveWindow(guest_->connection(), logo->id, 20, 560);
  XSync(guest_->connection(), False);
  logo->x = 20;
  logo->y = 560;
  EXPECT_TRUE(window_matches(*logo));
  apps_[1].stop();  // xclock exits
  EXPECT_TRUE(wait_for([&] { return !client_window_for(clock->id); }, 10s));
}

TEST_F(AppServerE2E, TypingInTheClientWindowReachesXterm) {
  start_server();
  start_client("xterm");
  std::optional<GuestWindow> term;
  ASSERT_TRUE(wait_for([&] { return (term = guest_window_by_class(guest_->connection(), "XTerm")).has_value(); }, 15s));
  std::optional<ClientWindow> cw;
  ASSERT_TRUE(wait_for([&] { return (cw = client_window_for(term->id)).has_value(); }, 15s));
  ASSERT_TRUE(window_matches(*term)) << "xterm must be drawn before typing";
  const std::filesystem::path out = dir_ / "typed.txt";
  ChildOptions o;
  o.env = {{"DISPLAY", client_->display()}};
  const std::string win = std::to_string(cw->handle);
  ChildProcess({"xdotool", "mousemove", "--sync", "--window", win, "40", "40"}, o).stop(0, 5s);
  std::this_thread::sleep_for(300ms);
  ChildProcess({"xdotool", "type", "--delay", "15", "echo vitrine-typed > " + out.string()}, o).stop(0, 30s);
  ChildProcess({"xdotool", "key", "Return"}, o).stop(0, 5s);
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(out) && std::filesystem::file_size(out) > 0; }, 10s))
      << log();
  std::ifstream f(out);
  std::string text;
  std::getline(f, text);
  EXPECT_EQ(text, "vitrine-typed");
}

TEST_F(AppServerE2E, GuestPopupBecomesAnOverrideRedirectClientWindow) {
  start_app({"xlogo", "-geometry", "200x150+50+60"});
  ASSERT_TRUE(wait_for([&] { return guest_window_by_class(guest_->connection(), "XLogo").has_value(); }, 10s));
  start_server();
  start_client("xlogo");  // starts a second xlogo; the popup is ours
  Display* g = guest_->connection();
  XSetWindowAttributes a{};
  a.override_redirect = True;
  a.background_pixel = 0xc04080;
  const Window menu = XCreateWindow(g, DefaultRootWindow(g), 400, 300, 120, 90, 0, CopyFromParent, InputOutput,
                                    CopyFromParent, CWOverrideRedirect | CWBackPixel, &a);
  XClassHint hint{const_cast<char*>("menu"), const_cast<char*>("VitrineMenu")};
  XSetClassHint(g, menu, &hint);
  XMapRaised(g, menu);
  GC gc = XCreateGC(g, menu, 0, nullptr);
  XSetForeground(g, gc, 0x204060);
  XFillRectangle(g, menu, gc, 10, 10, 50, 20);
  XFreeGC(g, gc);
  XSync(g, False);
  std::optional<ClientWindow> cw;
  ASSERT_TRUE(wait_for([&] { return (cw = client_window_for(menu)).has_value(); }, 15s)) << log();
  EXPECT_TRUE(cw->override_redirect);
  EXPECT_TRUE(window_matches(GuestWindow{menu, 400, 300, 120, 90}));
  XDestroyWindow(g, menu);
  XSync(g, False);
  EXPECT_TRUE(wait_for([&] { return !client_window_for(menu); }, 10s));
}

TEST_F(AppServerE2E, ExecOfAMissingProgramFailsClearlyAndTheServerStays) {
  start_server();
  ChildProcess& c = start_client("no-such-program-vitrine");
  EXPECT_TRUE(wait_for([&] { return log().find("exec '||no-such-program-vitrine' failed") != std::string::npos; }, 15s))
      << log();
  EXPECT_NE(log().find("not found"), std::string::npos);
  c.stop();
  EXPECT_TRUE(server_.running());
  EXPECT_TRUE(server_answers_connection_request(port_));
}

TEST_F(AppServerE2E, GarbageAndMalformedClientsLeaveTheServerServingWithoutLeaks) {
  start_server();
  ASSERT_TRUE(server_answers_connection_request(port_));
  std::this_thread::sleep_for(200ms);
  const int fds_before = count_fds(server_.pid());
  const int threads_before = count_threads(server_.pid());
  std::mt19937 rng(1234);
  for (int round = 0; round < 12; ++round) {
    const int fd = connect_tcp(port_);
    ASSERT_GE(fd, 0);
    std::vector<uint8_t> junk(64 + rng() % 4000);
    for (uint8_t& b : junk) b = uint8_t(rng());
    switch (round % 4) {
      case 0: break;  // random bytes
      case 1: junk[0] = 0x03; junk[1] = 0x00; junk[2] = 0xff; junk[3] = 0xff; break;  // TPKT claiming 64 KiB
      case 2: {  // a valid connection request, then a garbage MCS Connect Initial
        std::vector<uint8_t> j = kConnectionRequest;
        j.insert(j.end(), {0x03, 0x00, 0x01, 0x00, 0x02, 0xf0, 0x80, 0x7f, 0x65, 0x82, 0xff, 0xff});
        j.insert(j.end(), junk.begin(), junk.end());
        junk = j;
        break;
      }
      case 3: junk.clear(); break;  // connect and vanish
    }
    if (!junk.empty()) ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(50ms);
    ::close(fd);
    ASSERT_TRUE(server_.running()) << "server died on round " << round << "\n" << log();
  }
  ASSERT_TRUE(server_answers_connection_request(port_));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count_fds(server_.pid()), fds_before);
  EXPECT_EQ(count_threads(server_.pid()), threads_before);
}

TEST_F(AppServerE2E, ClientsKilledMidUpdateDoNotHurtTheNextClient) {
  start_server();
  // The flood alias keeps xterm scrolling: there is always an update in flight.
  start_client("flood");
  std::optional<GuestWindow> term;
  ASSERT_TRUE(wait_for([&] { return (term = guest_window_by_class(guest_->connection(), "XTerm")).has_value(); }, 15s));
  ASSERT_TRUE(wait_for([&] { return client_window_for(term->id).has_value(); }, 15s));
  int fds_after_first = -1;
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(700ms);
    clients_.back().kill_hard();
    ASSERT_TRUE(wait_for([&] { return log().find("session ended") != std::string::npos; }, 10s));
    ASSERT_TRUE(server_.running()) << log();
    std::this_thread::sleep_for(300ms);
    if (round == 0) fds_after_first = count_fds(server_.pid());
    // Reconnect to the running flood (the exec starts one more; harmless).
    start_client("flood");
    ASSERT_TRUE(wait_for([&] { return client_window_for(term->id).has_value(); }, 15s)) << log();
  }
  clients_.back().kill_hard();
  std::this_thread::sleep_for(500ms);
  // Launched programs hold no fds of ours (CLOEXEC); sessions leave nothing behind.
  EXPECT_EQ(count_fds(server_.pid()), fds_after_first);
  // Stop the floods before the final check of a quiet, complete picture.
  start_app({"xlogo", "-geometry", "100x80+700+100"});
  std::optional<GuestWindow> logo;
  ASSERT_TRUE(wait_for([&] { return (logo = guest_window_by_class(guest_->connection(), "XLogo")).has_value(); }, 10s));
  start_client("xlogo");
  EXPECT_TRUE(window_matches(*logo)) << log();
}

TEST_F(AppServerE2E, InputFloodIsAbsorbedAndInputStillWorksAfterwards) {
  start_server();
  start_client("xterm");
  std::optional<GuestWindow> term;
  ASSERT_TRUE(wait_for([&] { return (term = guest_window_by_class(guest_->connection(), "XTerm")).has_value(); }, 15s));
  std::optional<ClientWindow> cw;
  ASSERT_TRUE(wait_for([&] { return (cw = client_window_for(term->id)).has_value(); }, 15s));
  ChildOptions o;
  o.env = {{"DISPLAY", client_->display()}};
  const std::string win = std::to_string(cw->handle);
  ChildProcess({"xdotool", "mousemove", "--sync", "--window", win, "40", "40"}, o).stop(0, 5s);
  // Thousands of motion and key events as fast as xdotool can send them.
  std::vector<std::string> moves = {"xdotool"};
  for (int i = 0; i < 300; ++i) {
    for (const std::string& s : {std::string("mousemove"), std::string("--window"), win,
                                 std::to_string(5 + i % 200), std::to_string(5 + (i * 7) % 80)})
      moves.push_back(s);
  }
  ChildProcess(moves, o).stop(0, 60s);
  ChildProcess({"xdotool", "type", "--delay", "0", std::string(1500, 'x')}, o).stop(0, 60s);
  ChildProcess({"xdotool", "key", "ctrl+c"}, o).stop(0, 5s);
  ASSERT_TRUE(server_.running()) << log();
  const std::filesystem::path out = dir_ / "after-flood.txt";
  ChildProcess({"xdotool", "type", "--delay", "15", "echo still-typing > " + out.string()}, o).stop(0, 30s);
  ChildProcess({"xdotool", "key", "Return"}, o).stop(0, 5s);
  ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(out) && std::filesystem::file_size(out) > 0; }, 15s))
      << log();
}

TEST_F(AppServerE2E, ServesOneConnectionOnAnInheritedSocket) {
  start_app({"xlogo", "-geometry", "200x150+50+60"});
  std::optional<GuestWindow> logo;
  ASSERT_TRUE(wait_for([&] { return (logo = guest_window_by_class(guest_->connection(), "XLogo")).has_value(); }, 10s));
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ChildOptions so = guest_env();
  so.fds = {{sv[0], 3}};
  so.stderr_path = (dir_ / "appserver.log").string();
  server_ = ChildProcess({VITRINE_APPSERVER_BIN, "--display", guest_->display(), "--fd", "3", "--verbose"}, so);
  ChildOptions co;
  co.env = {{"DISPLAY", client_->display()}, {"HOME", dir_.string()}};
  co.fds = {{sv[1], 3}};
  co.stderr_path = (dir_ / "xfreerdp-fd.log").string();
  clients_.emplace_back(std::vector<std::string>{"xfreerdp", "/v:|", "/port:3", "/sec:rdp", "/cert:ignore",
                                                 "/u:vitrine", "/p:x", "/app:||xlogo", "-auto-reconnect"},
                        co);
  ::close(sv[0]);
  ::close(sv[1]);
  EXPECT_TRUE(window_matches(*logo)) << log();
  clients_.back().stop();
  // One connection only: the server exits when it ends.
  EXPECT_TRUE(wait_for([&] { return !server_.running(); }, 10s)) << log();
}

}  // namespace
}  // namespace vitrine::appserver::testing
