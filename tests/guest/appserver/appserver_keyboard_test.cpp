// The host's keyboard layout reaches the guest, end to end (host RdpClient -> TCP ->
// vitrine-appserver -> guest Xvfb -> xterm):
//
//   * the client announces German (KLID 0x407) in its core data; the appserver sets the guest
//     keymap to XKB "de" before the first key;
//   * the scancodes a German keyboard sends for "zÄäöüß", AltGr+Q (@), AltGr+E (€) and the dead
//     acute followed by e (é) come out in a guest xterm (LANG=C.UTF-8: Xlib's compose turns the
//     dead key into é) exactly as that UTF-8 text;
//   * switching the host to French (RAIL Language Profile PDU) switches the guest keymap: the
//     AZERTY positions of a and z then type "az".
//
// The xterm runs `cat > FILE`, so the file holds exactly the bytes xterm produced for the keys.
#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/child_process.hpp"
#include "support/host_side.hpp"
#include "support/wait_for.hpp"
#include "support/xvfb.hpp"

#ifndef VITRINE_APPSERVER_BIN
#error "VITRINE_APPSERVER_BIN must name the vitrine-appserver binary"
#endif

namespace vitrine::appserver::testing {
namespace {

using namespace std::chrono_literals;
namespace host = rdpmux::host;

constexpr std::uint32_t kKlidGerman = 0x00000407;
constexpr std::uint32_t kKlidFrench = 0x0000040c;
constexpr host::Scancode kShift{0x2a, false};
constexpr host::Scancode kAltGr{0x38, true};  // right Alt: E0 38

// One key of a real keyboard: its scancode, with Shift or AltGr held around it.
struct Key {
  host::Scancode code;
  bool shift = false;
  bool altgr = false;
};

void press(host::RdpClient& client, const Key& k) {
  if (k.shift) client.key(kShift, true);
  if (k.altgr) client.key(kAltGr, true);
  client.key(k.code, true);
  client.key(k.code, false);
  if (k.altgr) client.key(kAltGr, false);
  if (k.shift) client.key(kShift, false);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Group 1's layout from the guest server's _XKB_RULES_NAMES (what setxkbmap sets).
std::string guest_layout(Display* dpy) {
  const Atom names = XInternAtom(dpy, "_XKB_RULES_NAMES", False);
  Atom type = 0;
  int format = 0;
  unsigned long count = 0, after = 0;
  unsigned char* data = nullptr;
  std::string layout;
  if (XGetWindowProperty(dpy, DefaultRootWindow(dpy), names, 0, 1024, False, XA_STRING, &type, &format, &count, &after,
                         &data) == Success &&
      data != nullptr) {
    const std::string all(reinterpret_cast<const char*>(data), count);
    // rules \0 model \0 layout \0 ...
    const size_t a = all.find('\0');
    const size_t b = a == std::string::npos ? a : all.find('\0', a + 1);
    if (b != std::string::npos) layout = all.substr(b + 1, all.find_first_of(std::string(",\0", 2), b + 1) - b - 1);
  }
  if (data) XFree(data);
  return layout;
}

class AppServerKeyboard : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* p : {"Xvfb", "xterm", "setxkbmap", "xkbcomp"})
      if (!have_program(p)) GTEST_SKIP() << p << " not installed (scripts/deps/appserver.txt)";
    guest_ = Xvfb::start(1024, 768);  // its connection stays open: no server reset between clients
    if (!guest_) GTEST_SKIP() << "Xvfb did not start";
    dir_ = std::filesystem::temp_directory_path() /
           ("vitrine-appserver-keyboard-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    typed_ = dir_ / "typed.txt";
    auto s = start_appserver(VITRINE_APPSERVER_BIN, guest_->display(), dir_, dir_ / "appserver.log",
                             {"--app", "kbd=env LANG=C.UTF-8 LC_ALL=C.UTF-8 xterm -title VitrineKbd -geometry "
                                       "60x8+200+200 -e sh -c 'cat > " + typed_.string() + "'"});
    ASSERT_TRUE(s) << "appserver did not start: " << log();
    server_ = std::make_unique<AppServer>(std::move(*s));
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    guest_.reset();
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  // A RemoteApp client with `klid` in its core data that starts the xterm; focuses it.
  ::testing::AssertionResult connect(std::uint32_t klid) {
    const int fd = connect_loopback(server_->port);
    if (fd < 0) return ::testing::AssertionFailure() << "cannot connect to port " << server_->port;
    host::ClientConfig config;
    config.security = host::Security::kRdp;
    config.remote_app = true;
    config.program = "||kbd";
    config.keyboard_layout = klid;
    auto client = host::RdpClient::start(std::move(config), ringbus::UniqueFd(fd), observer_, observer_);
    if (!client) return ::testing::AssertionFailure() << host::to_string(client.error());
    client_ = std::move(*client);
    if (auto up = client_->wait_connected(30s); !up)
      return ::testing::AssertionFailure() << "connect: " << host::to_string(up.error()) << "\n" << log();
    std::optional<TopLevel> term;
    if (!wait_for([&] { return (term = find_top_level(guest_->connection(), "XTerm")).has_value(); }, 15s))
      return ::testing::AssertionFailure() << "xterm did not map\n" << log();
    // Drawn and ready before typing: the host model has the window.
    if (!observer_.wait([&](const HostObserver& o) { return o.windows_locked().contains(static_cast<host::WindowId>(term->id)); }, 15000ms))
      return ::testing::AssertionFailure() << "the host never saw the xterm window\n" << log();
    client_->activate(static_cast<host::WindowId>(term->id), true);
    client_->mouse_move({term->x + 40, term->y + 40});
    std::this_thread::sleep_for(500ms);
    return ::testing::AssertionSuccess();
  }

  std::string log() const { return read_file(dir_ / "appserver.log"); }

  std::unique_ptr<Xvfb> guest_;
  std::filesystem::path dir_, typed_;
  std::unique_ptr<AppServer> server_;
  HostObserver observer_;
  std::unique_ptr<host::RdpClient> client_;
};

TEST_F(AppServerKeyboard, GermanLayoutTypesUmlautsAltGrAndDeadKeysThenFollowsASwitchToFrench) {
  ASSERT_TRUE(connect(kKlidGerman));
  EXPECT_EQ(guest_layout(guest_->connection()), "de") << log();

  // A German keyboard: z sits where US has y; ä ö ü ß where US has ' ; [ -; AltGr+Q = @,
  // AltGr+E = €; the key right of ß is dead acute.
  const std::vector<Key> german = {
      {{0x15, false}},               // z
      {{0x28, false}, true},         // Ä (Shift)
      {{0x28, false}},               // ä
      {{0x27, false}},               // ö
      {{0x1a, false}},               // ü
      {{0x0c, false}},               // ß
      {{0x10, false}, false, true},  // AltGr+Q: @
      {{0x12, false}, false, true},  // AltGr+E: €
      {{0x0d, false}},               // dead acute ...
      {{0x12, false}},               // ... e: é
      {{0x1c, false}},               // Return: cat writes the line
  };
  for (const Key& k : german) press(*client_, k);
  const std::string want_de = "z\xc3\x84\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f@\xe2\x82\xac\xc3\xa9\n";  // zÄäöüß@€é
  EXPECT_TRUE(wait_for([&] { return read_file(typed_) == want_de; }, 15s))
      << "typed: '" << read_file(typed_) << "'\n" << log();

  // The host switches to French: the guest follows (RAIL Language Profile PDU). Keys sent before
  // the keymap changed would still be German: wait for the guest first.
  client_->keyboard_layout_changed(kKlidFrench);
  ASSERT_TRUE(wait_for([&] { return guest_layout(guest_->connection()) == "fr"; }, 15s)) << log();
  for (const Key& k : std::vector<Key>{{{0x10, false}}, {{0x11, false}}, {{0x1c, false}}}) press(*client_, k);
  EXPECT_TRUE(wait_for([&] { return read_file(typed_) == want_de + "az\n"; }, 15s))
      << "typed: '" << read_file(typed_) << "'\n" << log();
}

TEST_F(AppServerKeyboard, AUsClientLeavesAUsGuestAlone) {
  ASSERT_TRUE(connect(0x409));
  EXPECT_EQ(guest_layout(guest_->connection()), "us");
  EXPECT_EQ(log().find("guest keyboard layout"), std::string::npos) << "no setxkbmap for an unchanged layout";
  for (const Key& k : std::vector<Key>{{{0x15, false}}, {{0x1c, false}}}) press(*client_, k);
  EXPECT_TRUE(wait_for([&] { return read_file(typed_) == "y\n"; }, 15s)) << "typed: '" << read_file(typed_) << "'";
}

}  // namespace
}  // namespace vitrine::appserver::testing
