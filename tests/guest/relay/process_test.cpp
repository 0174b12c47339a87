// vitrine-guest as its own process, attached each way a backend hands it the bus.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>

#include "process_util.hpp"
#include "relay_fixture.hpp"
#include "vitrine/ringbus/handoff.hpp"

namespace vitrine::relay::testing {
namespace {

// Echo one message through the relay process.
void echo_through(rdpmux::HostMux& mux) {
  Listener l = Listener::open();
  std::thread server([&] {
    auto s = l.accept();
    std::byte buf[256];
    const ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n > 0) send_all(s.get(), buf, static_cast<std::size_t>(n));
  });
  auto c = mux.open(rdpmux::Target::tcp(l.port), {.timeout = 10000ms});
  ASSERT_TRUE(c.has_value()) << rdpmux::to_string(c.error());
  const std::string msg = "through a separate process";
  ASSERT_TRUE((*c)->write(std::as_bytes(std::span(msg)), 5s));
  std::string back(msg.size(), '\0');
  std::size_t got = 0;
  while (got < back.size()) {
    auto n = (*c)->read(std::as_writable_bytes(std::span(back)).subspan(got), 5s);
    ASSERT_TRUE(n.has_value() && *n > 0);
    got += *n;
  }
  EXPECT_EQ(back, msg);
  server.join();
}

TEST(RelayProcess, InheritedBusAndDoorbellFds) {
  auto bus = ringbus::Bus::create(ringbus::BusConfig::uniform(3, 16, 16));
  ASSERT_TRUE(bus.has_value());
  auto bells = rdpmux::BusDoorbells::create_eventfds(3);
  ASSERT_TRUE(bells.has_value());
  const std::vector<int> bell_fds = bells->fds();
  std::vector<int> keep = bell_fds;
  keep.push_back(bus->fd());
  const pid_t pid = spawn_guest({"--bus-fd", std::to_string(bus->fd()), "--doorbell-fds", join(bell_fds)}, keep);
  auto mux = rdpmux::HostMux::create(*bus, std::move(*bells));
  ASSERT_TRUE(mux.has_value());
  auto hello = (*mux)->wait_ready(10s);
  ASSERT_TRUE(hello.has_value()) << rdpmux::to_string(hello.error());
  EXPECT_EQ(hello->relay_pid, static_cast<std::uint32_t>(pid));
  echo_through(**mux);
  EXPECT_EQ(stop_guest(pid), 0);
}

TEST(RelayProcess, FilePathWithoutDoorbellsPolls) {
  const std::string path = "/dev/shm/vitrine-relay-test-" + std::to_string(::getpid());
  auto bus = ringbus::Bus::create_at_path(path, ringbus::BusConfig::uniform(2, 16, 16));
  if (!bus) GTEST_SKIP() << "no /dev/shm: " << ringbus::to_string(bus.error());
  const pid_t pid = spawn_guest({"--bus-path", path}, {});
  auto mux = rdpmux::HostMux::create(*bus, rdpmux::BusDoorbells{});
  ASSERT_TRUE(mux.has_value());
  ASSERT_TRUE((*mux)->wait_ready(10s).has_value());
  echo_through(**mux);
  EXPECT_EQ(stop_guest(pid), 0);
  std::filesystem::remove(path);
}

TEST(RelayProcess, HandoffSocket) {
  auto bus = ringbus::Bus::create(ringbus::BusConfig::uniform(2, 16, 16));
  ASSERT_TRUE(bus.has_value());
  auto bells = rdpmux::BusDoorbells::create_eventfds(2);
  ASSERT_TRUE(bells.has_value());
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ringbus::UniqueFd mine(sv[0]), theirs(sv[1]);
  const pid_t pid = spawn_guest({"--handoff-fd", std::to_string(theirs.get())}, {theirs.get()});
  theirs.reset();
  const std::vector<int> bell_fds = bells->fds();
  ASSERT_TRUE(ringbus::send_handoff(mine.get(), bus->fd(), bus->size(), bell_fds).has_value());
  auto mux = rdpmux::HostMux::create(*bus, std::move(*bells));
  ASSERT_TRUE(mux.has_value());
  ASSERT_TRUE((*mux)->wait_ready(10s).has_value());
  echo_through(**mux);
  EXPECT_EQ(stop_guest(pid), 0);
}

TEST(RelayProcess, BadArgumentsExitNonZero) {
  const pid_t pid = spawn_guest({"--bus-fd", "notanumber"}, {});
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace vitrine::relay::testing
