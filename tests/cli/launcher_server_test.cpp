#include "launcher_server.hpp"

#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <poll.h>

#include "fake_instance.hpp"
#include "launcher_client.hpp"
#include "launcher_protocol.hpp"
#include "test_dir.hpp"

namespace vitrine::cli {
namespace {

using namespace std::chrono_literals;

struct Served {
  test::TempDir dir;
  test::RecordingInstance instance;
  std::unique_ptr<LauncherServer> server;

  explicit Served(uid_t allowed = static_cast<uid_t>(-1)) {
    ::chmod(dir.path().c_str(), 0700);
    LauncherServerOptions o;
    o.socket_path = dir.path() / "test.sock";
    o.allowed_uid = allowed;
    o.client_timeout = 300ms;
    auto s = LauncherServer::start(o, instance);
    EXPECT_TRUE(s) << (s ? "" : s.error());
    if (s) server = std::move(*s);
  }
  std::filesystem::path path() const { return dir.path() / "test.sock"; }
};

// Sends raw bytes and returns everything the server answers until it closes.
std::string raw_exchange(const std::filesystem::path& path, std::string_view send, bool shutdown_write = true) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  if (!send.empty()) (void)!::write(fd, send.data(), send.size());
  if (shutdown_write) ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

int connect_unix(const std::filesystem::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// raw_exchange with a bound: what came before `limit` (a hung server shows as an empty reply).
std::string raw_exchange_with_timeout(const std::filesystem::path& path, std::string_view send,
                                      std::chrono::milliseconds limit) {
  const int fd = connect_unix(path);
  if (fd < 0) return "connect failed";
  (void)!::write(fd, send.data(), send.size());
  ::shutdown(fd, SHUT_WR);
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(LauncherServer, SocketIsPrivateAndRemovedOnStop) {
  std::filesystem::path path;
  {
    Served s;
    ASSERT_TRUE(s.server);
    path = s.path();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(LauncherServer, ListsAppsLaunchesAndReportsStats) {
  Served s;
  ASSERT_TRUE(s.server);
  auto apps = launcher_request(s.path(), {"apps"});
  ASSERT_TRUE(apps) << apps.error().message;
  ASSERT_TRUE(apps->ok);
  ASSERT_EQ(apps->data.size(), 2u);
  EXPECT_EQ(apps->data[0][1], "debian-xterm");
  EXPECT_EQ(apps->data[0][4], "iVBORw==");  // base64 of the 4 icon bytes
  EXPECT_EQ(apps->data[1][3], "/usr/bin/xclock -update 1");

  // By id, by name (any case), by program name.
  for (const char* q : {"debian-xterm", "xterm", "XTERM"}) {
    auto r = launcher_request(s.path(), {"launch", q, "-e", "top"});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok) << q << ": " << r->message;
    EXPECT_EQ(r->message, "started XTerm");
  }
  ASSERT_EQ(s.instance.launched.size(), 3u);
  EXPECT_EQ(s.instance.launched[0].second, (std::vector<std::string>{"-e", "top"}));

  auto failed = launcher_request(s.path(), {"launch", "xclock", "--fail"});
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->ok);
  EXPECT_EQ(failed->code, "launch-failed");

  auto stats = launcher_request(s.path(), {"stats"});
  ASSERT_TRUE(stats && stats->ok);
  ASSERT_EQ(stats->data.size(), 2u);
  EXPECT_EQ(stats->data[0][1], "bus.bytes_to_host");
  auto ping = launcher_request(s.path(), {"ping"});
  ASSERT_TRUE(ping && ping->ok);
  EXPECT_EQ(ping->message, "vitrine-launcher/1");
}

// A launch waits for the guest (up to 30 s); meanwhile every other request is answered. The slow
// launch is held until `apps` and a second launch have returned: a server that served one
// client at a time would never answer them (the client's 20 s timeout would say so).
TEST(LauncherServer, ASlowLaunchDoesNotHoldUpOtherRequests) {
  Served s;
  ASSERT_TRUE(s.server);
  std::mutex m;
  std::condition_variable cv;
  bool release = false, slow_started = false;
  s.instance.on_launch = [&](const catalog::AppEntry& app) {
    if (app.id != "xclock") return;
    std::unique_lock lock(m);
    slow_started = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  std::thread slow([&] { (void)launcher_request(s.path(), {"launch", "xclock"}); });
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return slow_started; }));
  }
  const auto apps = raw_exchange_with_timeout(s.path(), "apps\n", 20s);
  const auto other = raw_exchange_with_timeout(s.path(), "launch\txterm\n", 20s);
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  slow.join();
  EXPECT_NE(apps.find("ok\t2"), std::string::npos) << apps;
  EXPECT_NE(other.find("started XTerm"), std::string::npos) << other;
  ASSERT_EQ(s.instance.launched.size(), 2u);
  EXPECT_EQ(s.instance.launched[0].first, "debian-xterm");  // the fast one finished first
  EXPECT_EQ(s.instance.launched[1].first, "xclock");
}

// Past max_clients connections at once, a new client is told "busy" at once instead of waiting
// behind clients that send nothing.
TEST(LauncherServer, TooManyClientsAtOnceGetBusy) {
  test::TempDir dir;
  ::chmod(dir.path().c_str(), 0700);
  test::RecordingInstance instance;
  LauncherServerOptions o;
  o.socket_path = dir.path() / "test.sock";
  o.client_timeout = 30s;
  o.max_clients = 2;
  auto server = LauncherServer::start(o, instance);
  ASSERT_TRUE(server) << server.error();
  std::vector<int> idle;
  for (int i = 0; i < 2; ++i) idle.push_back(connect_unix(o.socket_path));
  // The idle clients are accepted before the third connects (one accept per turn, in order);
  // the server may still be starting their workers: retry until busy or 20 s.
  std::string reply;
  for (int attempt = 0; attempt < 200 && reply.find("busy") == std::string::npos; ++attempt) {
    reply = raw_exchange_with_timeout(o.socket_path, "ping\n", 20s);
    if (reply.find("busy") == std::string::npos) std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(reply.find("error\tbusy"), std::string::npos) << reply;
  EXPECT_GE((*server)->clients_turned_away(), 1u);
  for (int fd : idle) ::close(fd);
  server->reset();  // stops at once: the idle workers' waits end on the stop signal
}

TEST(LauncherServer, UnknownApplicationListsWhatIsPublished) {
  Served s;
  ASSERT_TRUE(s.server);
  auto r = launcher_request(s.path(), {"launch", "xeyes"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->code, "unknown-app");
  EXPECT_NE(r->message.find("'xeyes'"), std::string::npos);
  EXPECT_NE(r->message.find("debian-xterm (XTerm), xclock (XClock)"), std::string::npos) << r->message;
}

// launch-notify: the XDG startup id goes with the launch to the instance (startup_notify.hpp).
TEST(LauncherServer, ALaunchCarriesItsStartupId) {
  Served s;
  ASSERT_TRUE(s.server);
  auto r = launcher_request(s.path(), {"launch-notify", "menu-42_TIME123", "xclock", "-digital"});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << r->message;
  auto plain = launcher_request(s.path(), {"launch", "xclock"});
  ASSERT_TRUE(plain && plain->ok);
  ASSERT_EQ(s.instance.launched.size(), 2u);
  EXPECT_EQ(s.instance.launched[0].second, (std::vector<std::string>{"-digital"}));
  EXPECT_EQ(s.instance.startup_ids, (std::vector<std::string>{"menu-42_TIME123", ""}));
  auto no_app = launcher_request(s.path(), {"launch-notify", "menu-43_TIME0"});
  ASSERT_TRUE(no_app);
  EXPECT_EQ(no_app->code, "malformed");
  auto bad_id = launcher_request(s.path(), {"launch-notify", "a\nb", "xclock"});
  ASSERT_TRUE(bad_id);
  EXPECT_EQ(bad_id->code, "malformed");
  EXPECT_EQ(s.instance.launched.size(), 2u);
}

TEST(LauncherServer, MalformedRequestsGetErrorReplies) {
  Served s;
  ASSERT_TRUE(s.server);
  EXPECT_EQ(raw_exchange(s.path(), "frobnicate\n").substr(0, 22), "error\tunknown-command\t");
  EXPECT_EQ(raw_exchange(s.path(), "launch\n").substr(0, 16), "error\tmalformed\t");
  EXPECT_EQ(raw_exchange(s.path(), "launch\t\\q\n").substr(0, 16), "error\tmalformed\t");
  EXPECT_EQ(raw_exchange(s.path(), std::string_view("apps\0\n", 6)).substr(0, 16), "error\tmalformed\t");
  EXPECT_EQ(raw_exchange(s.path(), "\n").substr(0, 16), "error\tmalformed\t");
  EXPECT_EQ(raw_exchange(s.path(), std::string(kMaxRequestBytes + 10, 'a')).substr(0, 15), "error\ttoo-long\t");
  // No newline and the writer stays open: dropped after the timeout with an error reply.
  EXPECT_EQ(raw_exchange(s.path(), "apps", false).substr(0, 16), "error\tmalformed\t");
  // Without the newline but with EOF the request still counts.
  EXPECT_EQ(raw_exchange(s.path(), "ping").substr(0, 3), "ok\t");
  // The server still serves after all that.
  auto ok = launcher_request(s.path(), {"apps"});
  ASSERT_TRUE(ok && ok->ok);
}

TEST(LauncherServer, RefusesPeersOfAnotherUid) {
  // The credential check: allow only some other uid; our own connection must be refused.
  Served s(::geteuid() + 4242);
  ASSERT_TRUE(s.server);
  auto r = launcher_request(s.path(), {"launch", "xterm"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->code, "forbidden");
  EXPECT_TRUE(s.instance.launched.empty());
  EXPECT_EQ(s.server->requests_refused(), 1u);
}

TEST(LauncherServer, AnotherUserCannotConnectThroughTheFileMode) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to another uid (nobody)";
  passwd* nobody = ::getpwnam("nobody");
  if (!nobody) GTEST_SKIP() << "no user 'nobody'";
  Served s;
  ASSERT_TRUE(s.server);
  // The test dir is 0700 root: let nobody reach the socket itself, so the 0600 socket mode
  // and the credential check are what refuse it.
  ::chmod(s.dir.path().c_str(), 0755);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(nobody->pw_gid) != 0 || ::setuid(nobody->pw_uid) != 0) ::_exit(10);
    auto r = launcher_request(s.path(), {"launch", "xterm"}, 2000ms);
    if (r && r->ok) ::_exit(1);          // it got through: failure
    if (r && r->code == "forbidden") ::_exit(2);
    ::_exit(r ? 3 : 0);                  // connect refused by the file mode (EACCES)
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child exit code (1 = launched, 2 = reached the credential check)";
  EXPECT_TRUE(s.instance.launched.empty());
}

TEST(LauncherServer, SecondInstanceIsRefusedAndStaleSocketsAreReplaced) {
  Served s;
  ASSERT_TRUE(s.server);
  test::RecordingInstance other;
  LauncherServerOptions o;
  o.socket_path = s.path();
  auto second = LauncherServer::start(o, other);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find("already running"), std::string::npos);

  // A stale socket file (nobody listening) is replaced.
  test::TempDir d;
  auto stale = d.path() / "stale.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, stale.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  o.socket_path = stale;
  auto third = LauncherServer::start(o, other);
  ASSERT_TRUE(third) << third.error();
  auto ping = launcher_request(stale, {"ping"});
  ASSERT_TRUE(ping && ping->ok);

  // A regular file in the way is not deleted.
  test::write_file(d.path() / "file.sock", "data");
  o.socket_path = d.path() / "file.sock";
  auto fourth = LauncherServer::start(o, other);
  ASSERT_FALSE(fourth);
  EXPECT_TRUE(std::filesystem::exists(d.path() / "file.sock"));
}

TEST(LauncherServer, ClientReportsNoInstance) {
  test::TempDir d;
  auto r = launcher_request(d.path() / "none.sock", {"apps"});
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().no_instance);
}

}  // namespace
}  // namespace vitrine::cli
