// RemoteSession through the real relay chain: RemoteSession -> ConnectionBridge -> HostMux ->
// bus -> vitrine-guest's Relay -> TCP -> RailTestServer. The guest's RDP server goes away and
// comes back on the same port: the session reconnects, deletes the old windows first, shows the
// new ones, and input and exec work again. A server that never comes back, or one that drops
// every session as soon as it is up: it gives up.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rail_test_server.hpp"
#include "relay_harness.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/rdpmux/host/remote_session.hpp"

namespace vitrine::rdpmux::host {
namespace {

using namespace std::chrono_literals;
using vitrine::testing::RailServerConfig;
using vitrine::testing::RailTestServer;
using vitrine::testing::ReceivedInput;

// Records window events in order ("+42", "-42") and reconnect callbacks.
class Observer final : public WindowEvents, public DisplaySink {
 public:
  void window_created(const WindowState& s) override { log("+" + std::to_string(s.id), [&] { titles[s.id] = s.title; }); }
  void window_changed(const WindowState& s, std::uint32_t) override { log("", [&] { titles[s.id] = s.title; }); }
  void window_deleted(WindowId id) override { log("-" + std::to_string(id), [&] { titles.erase(id); }); }
  void z_order_changed(std::span<const WindowId>) override {}
  void active_window_changed(WindowId) override {}
  void notify_icon_changed(const NotifyIconState&) override {}
  void notify_icon_deleted(WindowId, std::uint32_t) override {}
  void local_move_size(const LocalMoveSize&) override {}
  void framebuffer_changed(const FramebufferView&) override {}
  void damaged(const FramebufferView&, std::span<const DesktopRect>) override {}
  void reconnecting(int attempt, const Error& why) {
    log("reconnect " + std::to_string(attempt), [&] {
      attempts.push_back(attempt);
      reasons.push_back(why);
    });
  }

  template <typename P>
  bool wait(P p, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, timeout, p);
  }

  std::mutex mutex;
  std::condition_variable cv;
  std::map<WindowId, std::string> titles;
  std::vector<std::string> events;
  std::vector<int> attempts;
  std::vector<Error> reasons;

 private:
  template <typename F>
  void log(std::string event, F f) {
    {
      std::lock_guard lock(mutex);
      f();
      if (!event.empty()) events.push_back(std::move(event));
    }
    cv.notify_all();
  }
};

template <typename P>
bool eventually(P p, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = base::Deadline::after(timeout);
  while (!p()) {
    if (deadline.expired()) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool saw_mouse_at(const std::vector<ReceivedInput>& in, std::int32_t x, std::int32_t y) {
  for (const auto& e : in)
    if (e.kind == ReceivedInput::Kind::kMouse && e.x == x && e.y == y) return true;
  return false;
}

class RemoteSessionTest : public testing::RelayHarness {
 protected:
  RemoteSessionConfig config(int max_reconnects, std::chrono::milliseconds delay) {
    RemoteSessionConfig c;
    c.client.security = Security::kRdp;
    c.client.program = "||chain";
    c.client.width = 640;
    c.client.height = 480;
    c.max_reconnects = max_reconnects;
    c.reconnect_delay = delay;
    c.connect_timeout = 20s;
    c.on_reconnect = [this](int attempt, const Error& why) { observer_.reconnecting(attempt, why); };
    return c;
  }
  RemoteSession::Opener opener() {
    return [this] { return open(pool_.port()); };
  }

  testing::ServerPool pool_;
  Observer observer_;
};

TEST_F(RemoteSessionTest, ReconnectsWhenTheGuestServerRestarts) {
  auto started = RemoteSession::start(opener(), config(10, 100ms), observer_, observer_);
  ASSERT_TRUE(started) << to_string(started.error());
  auto& session = **started;
  RailTestServer* first = pool_.wait_server(0);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->wait_ready(20s));
  ASSERT_TRUE(first->create_window({.id = 42, .title = "Before", .x = 5, .y = 5, .width = 200, .height = 100}));
  ASSERT_TRUE(observer_.wait([&] { return observer_.titles.contains(42); }));

  // The guest's server goes away: its connection ends and its port refuses for a while.
  pool_.set_config(RailServerConfig{.expect_exec = false});  // a reconnect sends no Client Execute
  pool_.close_listener();
  first->disconnect();
  ASSERT_TRUE(observer_.wait([&] { return observer_.attempts.size() >= 2; })) << "no failed reconnect attempt";
  {
    std::lock_guard lock(observer_.mutex);
    EXPECT_FALSE(observer_.titles.contains(42)) << "the old session's window was not deleted";
    EXPECT_EQ(observer_.reasons.front().code, Errc::kClosed) << to_string(observer_.reasons.front());
    EXPECT_EQ(observer_.reasons.back().code, Errc::kConnect) << to_string(observer_.reasons.back());
  }
  EXPECT_TRUE(session.running());
  session.key({0x1E, false}, true);  // nobody to send it to
  EXPECT_GE(session.dropped_input(), 1u);
  EXPECT_FALSE(session.exec({.program = "||now"}, 1s));

  // It comes back on the same port.
  ASSERT_TRUE(pool_.listen_again());
  RailTestServer* second = pool_.wait_server(1);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->wait_ready(20s));
  ASSERT_TRUE(eventually([&] { return session.reconnects() == 1; }));
  ASSERT_TRUE(second->create_window({.id = 43, .title = "After", .x = 0, .y = 0, .width = 100, .height = 100}));
  ASSERT_TRUE(observer_.wait([&] { return observer_.titles.contains(43); }));
  {
    std::lock_guard lock(observer_.mutex);
    std::vector<std::string> windows;
    for (const auto& e : observer_.events)
      if (e[0] == '+' || e[0] == '-') windows.push_back(e);
    EXPECT_EQ(windows, (std::vector<std::string>{"+42", "-42", "+43"}));
  }
  session.mouse_move({300, 200});
  ASSERT_TRUE(second->wait_input([](const auto& in) { return saw_mouse_at(in, 300, 200); }, 10s));
  for (const auto& e : second->input()) EXPECT_NE(e.kind, ReceivedInput::Kind::kExec) << e.text;
  auto exec = session.exec({.program = "||again"}, 10s);
  EXPECT_TRUE(exec) << to_string(exec.error());
  EXPECT_GT(session.bytes_to_guest(), 0u);
  EXPECT_GT(session.bytes_from_guest(), 0u);
  session.stop();
  EXPECT_FALSE(session.running());
  EXPECT_FALSE(session.error());
}

TEST_F(RemoteSessionTest, GivesUpWhenTheServerNeverComesBack) {
  std::optional<Error> ended_with;
  bool ended = false;
  auto c = config(3, 20ms);
  c.client.on_end = [&](const std::optional<Error>& e) {
    ended_with = e;
    ended = true;
  };
  auto started = RemoteSession::start(opener(), c, observer_, observer_);
  ASSERT_TRUE(started) << to_string(started.error());
  auto& session = **started;
  RailTestServer* first = pool_.wait_server(0);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->wait_ready(20s));
  ASSERT_TRUE(first->create_window({.id = 7, .title = "Doomed", .x = 0, .y = 0, .width = 50, .height = 50}));
  ASSERT_TRUE(observer_.wait([&] { return observer_.titles.contains(7); }));
  pool_.close_listener();
  first->disconnect();
  ASSERT_TRUE(session.wait_ended(60s));
  EXPECT_FALSE(session.running());
  auto error = session.error();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, Errc::kConnect);
  EXPECT_NE(error->message.find("after 3 attempt"), std::string::npos) << error->message;
  EXPECT_TRUE(ended);
  ASSERT_TRUE(ended_with);
  EXPECT_EQ(ended_with->message, error->message);
  std::lock_guard lock(observer_.mutex);
  EXPECT_EQ(observer_.attempts, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(observer_.titles.empty());
}

TEST_F(RemoteSessionTest, AServerThatDropsEverySessionAtOnceIsGivenUp) {
  auto c = config(3, 20ms);
  c.stable_session = 30s;  // every session below ends long before
  auto started = RemoteSession::start(opener(), c, observer_, observer_);
  ASSERT_TRUE(started) << to_string(started.error());
  auto& session = **started;
  pool_.set_config(RailServerConfig{.expect_exec = false});  // reconnects send no Client Execute
  // Each connection's server (the first and every reconnect) ends its session once it is up.
  std::thread dropper([&] {
    for (std::size_t i = 0; i < 4; ++i) {  // the first session and three reconnects
      RailTestServer* s = pool_.wait_server(i);
      if (s == nullptr) return;
      if (s->wait_ready(20s)) s->disconnect();
    }
  });
  const bool ended = session.wait_ended(60s);
  pool_.close_listener();
  dropper.join();
  ASSERT_TRUE(ended) << "reconnected forever to a server that drops every session; accepted " << pool_.accepted()
                     << ", reconnects " << session.reconnects();
  auto error = session.error();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, Errc::kConnect);
  EXPECT_NE(error->message.find("without a session that lasted"), std::string::npos) << error->message;
  // Three reconnects that each came up and dropped again; the initial session plus them = 4 servers.
  EXPECT_EQ(session.reconnects(), 3u);
  EXPECT_EQ(pool_.accepted(), 4u);
  std::lock_guard lock(observer_.mutex);
  EXPECT_EQ(observer_.attempts, (std::vector<int>{1, 2, 3}));
}

TEST_F(RemoteSessionTest, AServerThatBreaksTheLimitsIsNotReconnected) {
  auto started = RemoteSession::start(opener(), config(10, 20ms), observer_, observer_);
  ASSERT_TRUE(started) << to_string(started.error());
  auto& session = **started;
  RailTestServer* first = pool_.wait_server(0);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->wait_ready(20s));
  ASSERT_TRUE(first->create_raw_window(9, 1'000'000, 100));
  ASSERT_TRUE(session.wait_ended(20s));
  ASSERT_TRUE(session.error());
  EXPECT_EQ(session.error()->code, Errc::kLimit) << to_string(*session.error());
  EXPECT_EQ(session.reconnects(), 0u);
  std::lock_guard lock(observer_.mutex);
  EXPECT_TRUE(observer_.attempts.empty());
}

TEST_F(RemoteSessionTest, TheFirstConnectionFailingIsReturned) {
  // Port 1 on the guest's loopback: nothing listens there.
  auto started = RemoteSession::start([this] { return open(1); }, config(10, 20ms), observer_, observer_);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, Errc::kConnect);
  EXPECT_NE(started.error().message.find("through the bus"), std::string::npos) << started.error().message;
}

}  // namespace
}  // namespace vitrine::rdpmux::host
