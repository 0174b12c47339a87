// `vitrine record` / `vitrine replay` parts end to end: a RemoteApp session of tests/support's
// RailTestServer through the real relay chain (RdpClient -> socketpair -> ConnectionBridge with
// a RecordingTap -> HostMux / bus -> vitrine-guest's Relay -> TCP -> server), standard RDP
// security as on the private bus; then replays of that file into a fresh RdpClient and the
// headless compositor. Label: cli (and perf).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "null_sink.hpp"
#include "rail_test_server.hpp"
#include "vitrine/viewer/remote_display.hpp"
#include "replay_check.hpp"
#include "replay_feeder.hpp"
#include "replay_player.hpp"
#include "replay_recorder.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vitrine/relay/relay.hpp"
#include "vitrine/relay/uring_engine.hpp"

namespace vitrine::cli {
namespace {

using namespace std::chrono_literals;
using namespace vitrine::rdpmux::host;
using vitrine::testing::RailTestServer;
namespace fs = std::filesystem;

// Counts what the live client saw, so the recording stops only after it all arrived.
class Counter final : public vitrine::testing::NullSink {
 public:
  void window_created(const WindowState& w) override { bump([&] { ++windows; note(w); }); }
  void window_changed(const WindowState& w, std::uint32_t) override { bump([&] { note(w); }); }
  void damaged(const FramebufferView&, std::span<const DesktopRect> rects) override {
    bump([&] {
      for (const auto& r : rects) area += std::uint64_t{r.width} * r.height;
    });
  }
  template <typename P>
  bool wait(P p) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 20s, p);
  }
  std::mutex mutex;
  std::condition_variable cv;
  int windows = 0;
  std::uint64_t area = 0;
  std::string title7;        // the last title of window 7
  std::int32_t window8_x = 0;  // the last x of window 8

 private:
  void note(const WindowState& w) {
    if (w.id == 7) title7 = w.title;
    if (w.id == 8) window8_x = w.frame.x;
  }
  template <typename F>
  void bump(F f) {
    {
      std::lock_guard lock(mutex);
      f();
    }
    cv.notify_all();
  }
};

std::string slurp(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec) return {};
  std::string bytes(static_cast<std::size_t>(size), '\0');
  std::ifstream in(p, std::ios::binary);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

class RecordReplay : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("vitrine-record-replay-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  static void TearDownTestSuite() {
    if (std::getenv("VITRINE_KEEP_TEST_FILES") != nullptr) {
      std::printf("kept %s\n", dir_.c_str());
      return;
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Records one scripted session into dir_/session.vtrec (once per test program).
  static void record_session() {
    if (recorded_ || !record_error_.empty()) return;
    record_error_ = record_once();
    recorded_ = record_error_.empty();
  }

  static std::string record_once() {
    auto host = ringbus::Bus::create(ringbus::BusConfig::uniform(4, 20, 20));
    if (!host) return "bus";
    auto guest = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(host->fd())), ringbus::Side::kGuest);
    if (!guest) return "guest bus";
    auto bells = rdpmux::BusDoorbells::create_eventfds(4);
    if (!bells) return "doorbells";
    auto guest_fds = bells->dup_fds();
    if (!guest_fds) return "doorbell fds";
    auto guest_bells = rdpmux::BusDoorbells::from_fds(std::move(*guest_fds));
    if (!guest_bells) return "guest doorbells";
    auto engine = relay::UringEngine::create();
    if (!engine) return "skip: io_uring unavailable: " + rdpmux::to_string(engine.error());
    auto relay = relay::Relay::create(*guest, *guest_bells, **engine);
    if (!relay) return "relay: " + rdpmux::to_string(relay.error());
    std::atomic<bool> stop{false};
    std::thread relay_thread([&] { (void)(*relay)->run(stop); });
    struct Join {
      std::atomic<bool>& stop;
      rdpmux::BusDoorbells& bells;
      std::thread& t;
      ~Join() {
        stop = true;
        if (auto* b = bells.guest()) b->ring();
        t.join();
      }
    } join{stop, *guest_bells, relay_thread};
    auto mux = rdpmux::HostMux::create(*host, std::move(*bells));
    if (!mux || !(*mux)->wait_ready(5s)) return "host mux";

    // The RDP server on a loopback TCP port, as the guest's server would be.
    ringbus::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listener.get(), 1) != 0 ||
        ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return "listen";
    std::unique_ptr<RailTestServer> server;
    std::mutex server_mutex;
    std::condition_variable server_cv;
    std::thread acceptor([&] {
      const int c = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::lock_guard lock(server_mutex);
      server = RailTestServer::start(c);
      server_cv.notify_all();
    });
    struct JoinAcceptor {
      ringbus::UniqueFd& fd;
      std::thread& t;
      ~JoinAcceptor() {
        ::shutdown(fd.get(), SHUT_RDWR);
        t.join();
      }
    } join_acceptor{listener, acceptor};

    auto conn = (*mux)->open(rdpmux::Target::tcp(ntohs(a.sin_port)), {.framed = true, .timeout = 5000ms});
    if (!conn) return "open: " + rdpmux::to_string(conn.error());
    const std::uint32_t channel = (*conn)->channel_id();
    auto tap = RecordingTap::create((dir_ / "session.vtrec").string(), std::uint64_t{1} << (channel & 63));
    if (!tap) return "tap: " + tap.error();
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return "socketpair";
    auto bridge = ConnectionBridge::start(std::move(*conn), ringbus::UniqueFd(fds[1]), *tap);
    if (!bridge) return "bridge";
    Counter counter;
    ClientConfig config;
    config.security = Security::kRdp;
    config.program = "||recorded";
    config.width = 640;
    config.height = 480;
    auto client = RdpClient::start(config, ringbus::UniqueFd(fds[0]), counter, counter);
    if (!client) return "client: " + to_string(client.error());
    if (auto up = (*client)->wait_connected(20s); !up) return "connect: " + to_string(up.error());
    RailTestServer* s = nullptr;
    {
      std::unique_lock lock(server_mutex);
      if (!server_cv.wait_for(lock, 20s, [&] { return server != nullptr; })) return "no server";
      s = server.get();
    }
    if (!s->wait_ready(20s)) return "server not ready";
    if (!s->create_window({.id = 7, .title = "Recorded one", .x = 10, .y = 20, .width = 200, .height = 120}) ||
        !s->create_window({.id = 8, .title = "Recorded two", .x = 300, .y = 200, .width = 160, .height = 90}))
      return "windows";
    if (!s->paint(0, 0, 640, 480, [](std::int32_t x, std::int32_t y) { return testing::test_pattern(x, y, 1); }) ||
        !s->paint(40, 40, 100, 50, [](std::int32_t x, std::int32_t y) { return testing::test_pattern(x, y, 2); }) ||
        !s->move_window(8, 320, 220, 160, 90) || !s->retitle(7, "Recorded one, renamed"))
      return "script";
    // Everything the script sent must have reached the client (and so the recording) before it
    // stops: the last orders are the move and the retitle, which come after the paints.
    if (!counter.wait([&] {
          return counter.windows >= 2 && counter.area >= 640u * 480u + 100u * 50u && counter.window8_x == 320 &&
                 counter.title7 == "Recorded one, renamed";
        }))
      return "the live client did not see the scripted session (windows " + std::to_string(counter.windows) +
             ", area " + std::to_string(counter.area) + ", window 8 at x " + std::to_string(counter.window8_x) +
             ", window 7 titled \"" + counter.title7 + "\")";
    (*client)->stop();
    (*bridge)->stop();
    auto closed = (*tap)->close();
    if (!closed) return "close: " + closed.error();
    if ((*tap)->bytes(BridgeTap::Direction::kToSocket) == 0 || (*tap)->bytes(BridgeTap::Direction::kToGuest) == 0)
      return "the tap saw no bytes in one direction";
    return {};
  }

  void need_recording() {
    record_session();
    if (record_error_.rfind("skip: ", 0) == 0) GTEST_SKIP() << record_error_.substr(6);
    ASSERT_TRUE(recorded_) << "recording the session failed: " << record_error_;
  }

  void need_display() {
    viewer::RemoteDisplayOptions o;
    o.headless = true;
    auto d = viewer::RemoteDisplay::create(o);
    if (!d) GTEST_SKIP() << "no off-screen GL (Mesa EGL surfaceless): " << d.error();
  }

  static fs::path copy_with(const std::string& name, const std::function<void(std::string&)>& edit) {
    std::string bytes = slurp(dir_ / "session.vtrec");
    edit(bytes);
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    return p;
  }

  static inline fs::path dir_;
  static inline bool recorded_ = false;
  static inline std::string record_error_;
};

TEST_F(RecordReplay, TheTapRecordsBothDirectionsOfTheSession) {
  need_recording();
  if (HasFatalFailure() || IsSkipped()) return;
  std::uint64_t to_guest = 0, from_guest = 0;
  std::set<std::uint32_t> channels;
  std::uint64_t last_ts = 0;
  bool ordered = true;
  auto r = perf::read_recording((dir_ / "session.vtrec").string(), [&](const perf::Entry& e) {
    (e.direction == 0 ? to_guest : from_guest) += e.payload.size();
    channels.insert(e.channel);
    ordered = ordered && e.timestamp_ns >= last_ts;
    last_ts = e.timestamp_ns;
    EXPECT_EQ(e.type, kRecordedRdpBytes);
    return true;
  });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_GT(to_guest, 0u);
  EXPECT_GT(from_guest, 640u * 480u / 64);  // at least the painted pixels, compressed
  EXPECT_EQ(channels.size(), 1u);
  // Entries of one bridge thread are appended in the order they moved.
  EXPECT_TRUE(ordered);
  auto channel = inspect_recording((dir_ / "session.vtrec").string(), std::nullopt);
  ASSERT_TRUE(channel) << channel.error();
  EXPECT_EQ(*channel, *channels.begin());
}

TEST_F(RecordReplay, ReplayingTwiceGivesIdenticalScreenshots) {
  need_recording();
  if (HasFatalFailure() || IsSkipped()) return;
  need_display();
  if (IsSkipped()) return;
  std::vector<std::vector<std::string>> runs;
  for (int run = 0; run < 3; ++run) {
    ReplayOptions o;
    o.recording = dir_ / "session.vtrec";
    o.screenshot_dir = dir_ / ("shots-" + std::to_string(run));
    o.width = 640;
    o.height = 480;
    // The third run paces the entries as they were recorded.
    o.pacing = run == 2 ? perf::Pacing::kRealTime : perf::Pacing::kFullSpeed;
    auto r = replay_session(o);
    ASSERT_TRUE(r) << "run " << run << ": " << r.error();
    EXPECT_GT(r->feed.bytes_fed, 0u);
    EXPECT_GT(r->paints, 0u);
    EXPECT_EQ(r->windows, 2u);
    ASSERT_EQ(r->screenshots.size(), 2u) << "run " << run;
    std::vector<std::string> files;
    std::sort(r->screenshots.begin(), r->screenshots.end());
    for (const auto& f : r->screenshots) files.push_back(f.filename().string() + "\n" + slurp(f));
    files.push_back(slurp(o.screenshot_dir / "windows.json"));
    runs.push_back(std::move(files));
  }
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_NE(runs[0][0].find("renamed"), std::string::npos) << "the last title of window 7 names its PNG";
  for (std::size_t i = 0; i < runs[0].size(); ++i) {
    // A window of one flat colour compresses to ~150 bytes; the painted test pattern does not.
    if (i < 2) {
      EXPECT_GT(runs[0][i].size(), 400u) << "window PNG " << i << " looks empty";
    }
    EXPECT_TRUE(runs[0][i] == runs[1][i]) << "full-speed replays differ in file " << i;
    EXPECT_TRUE(runs[0][i] == runs[2][i]) << "real-time replay differs in file " << i;
  }
}

TEST_F(RecordReplay, TruncatedCorruptAndWrongVersionFilesNameTheOffset) {
  need_recording();
  if (HasFatalFailure() || IsSkipped()) return;
  const std::size_t size = slurp(dir_ / "session.vtrec").size();
  ASSERT_GT(size, 200u);
  const auto truncated = copy_with("truncated.vtrec", [&](std::string& b) { b.resize(size - 17); });
  const auto corrupt = copy_with("corrupt.vtrec", [&](std::string& b) { b[64 + 40 + 10] ^= 0x5A; });
  const auto version = copy_with("version.vtrec", [&](std::string& b) { b[8] = 9; });
  for (const auto& [file, words] : {std::pair{truncated, "truncated"}, std::pair{corrupt, "checksum"},
                                    std::pair{version, "version"}}) {
    ReplayOptions o;
    o.recording = file;
    auto r = replay_session(o);
    ASSERT_FALSE(r) << file;
    EXPECT_NE(r.error().find("byte offset"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find(words), std::string::npos) << r.error();
  }
  ReplayOptions none;
  none.recording = dir_ / "no-such.vtrec";
  auto missing = replay_session(none);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("cannot open"), std::string::npos) << missing.error();
}

// A recording whose server chose TLS is refused before anything starts, with the reason.
TEST_F(RecordReplay, TlsSessionsAreRefusedWithAClearError) {
  // X.224 Connection Confirm with RDP_NEG_RSP selecting PROTOCOL_SSL (MS-RDPBCGR 2.2.1.2.1).
  const std::vector<std::uint8_t> cc = {0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34,
                                        0x00, 0x02, 0x1f, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00};
  const fs::path file = dir_ / "tls.vtrec";
  {
    auto w = perf::RecordingWriter::create(file.string(), 1u << 1);
    ASSERT_TRUE(w);
    perf::Entry e;
    e.channel = 1;
    e.direction = 1;
    e.type = kRecordedRdpBytes;
    e.payload = std::as_bytes(std::span(cc));
    ASSERT_TRUE(w->append(e));
    ASSERT_TRUE(w->close());
  }
  ReplayOptions o;
  o.recording = file;
  auto r = replay_session(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("TLS"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("cannot be replayed"), std::string::npos) << r.error();
  // The same bytes with standard RDP security (selectedProtocol 0) pass the first check and stop
  // at the missing MCS Connect Response.
  auto plain = cc;
  plain[15] = 0;
  auto ok = check_replayable(std::as_bytes(std::span(plain)));
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().find("MCS Connect Response"), std::string::npos) << ok.error();
  // Garbage is not an RDP stream.
  const std::vector<std::uint8_t> junk(64, 0xAB);
  auto bad = check_replayable(std::as_bytes(std::span(junk)));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("X.224"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace vitrine::cli
