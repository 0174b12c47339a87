// Sandbox backend end to end: vitrine-vmm runs hv_bus_echo in namespaces; the test is vitrine.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "vitrine/hv/sandbox_backend.hpp"
#include "vmm_harness.hpp"

namespace vitrine::hv {
namespace {

using namespace std::chrono_literals;
using test::VmmHarness;

std::string config(const std::string& restart = "on-failure", const std::string& extra_args = "") {
  return "name = \"sbx\"\nbackend = \"sandbox\"\n"
         "[bus]\nsize = 4194304\nchannels = 2\nring_size = 262144\n"
         "[[sandbox.program]]\nname = \"echo\"\ncommand = [\"" HV_ECHO_PATH "\"" + extra_args + "]\n"
         "restart = \"" + restart + "\"\n";
}

// Namespaces need CAP_SYS_ADMIN (root) or unprivileged user namespaces.
bool can_sandbox(std::string* why) {
  if (::geteuid() == 0) return true;
  struct stat st{};
  if (::stat("/proc/self/ns/user", &st) != 0) {
    *why = "no user namespaces";
    return false;
  }
  return true;
}

ino_t pid_ns_from_events(VmmHarness& h) {
  for (const auto& e : h.events()) {
    const std::string key = "info sandbox init pid ";
    if (e.starts_with(key)) {
      struct stat st{};
      const pid_t pid = std::stoi(e.substr(key.size()));
      if (::stat(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), &st) == 0) return st.st_ino;
    }
  }
  return 0;
}

pid_t program_pid(const std::string& started_line) {
  const auto at = started_line.rfind(' ');
  return static_cast<pid_t>(std::stoi(started_line.substr(at + 1)));
}

bool wait_until_empty(ino_t ns, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (processes_in_namespace(ns) != 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!can_sandbox(&why)) GTEST_SKIP() << "sandbox unavailable: " << why;
  }
  std::unique_ptr<VmmHarness> start(const std::string& toml) {
    auto h = VmmHarness::start(toml, HV_VMM_PATH);
    EXPECT_TRUE(h.has_value()) << (h ? "" : ringbus::to_string(h.error()));
    if (!h) return nullptr;
    auto running = (*h)->wait_for("state running", 10s);
    EXPECT_TRUE(running.has_value()) << (*h)->logs();
    return std::move(*h);
  }
};

TEST_F(SandboxTest, shouldExchangeChecksummedTrafficBothWays) {
  auto h = start(config());
  ASSERT_TRUE(h);
  auto hello = h->wait_hello(10s);
  ASSERT_TRUE(hello.has_value()) << ringbus::to_string(hello.error()) << h->logs();
  EXPECT_EQ(hello->attach, 1u);
  EXPECT_EQ(hello->pid, 2u) << "the guest program is the second process of its pid namespace";
  auto echoed = h->host().echo(2000, 3000, 30s);
  ASSERT_TRUE(echoed.has_value()) << ringbus::to_string(echoed.error()) << h->logs();
  EXPECT_EQ(echoed->records, 2000u);
  EXPECT_EQ(echoed->bad, 0u);
  echo::TrafficResult t;
  auto gen = h->host().generate(3000, 5000, 30s, &t);
  ASSERT_TRUE(gen.has_value()) << ringbus::to_string(gen.error()) << h->logs();
  EXPECT_EQ(t.records, 3000u);
  EXPECT_EQ(t.bad, 0u);
}

TEST_F(SandboxTest, shouldSeeAKilledGuestProgramAndLetTheRestartedOneReattach) {
  auto h = start(config());
  ASSERT_TRUE(h);
  auto started = h->wait_for("program echo started", 10s);
  ASSERT_TRUE(started.has_value()) << h->logs();
  ASSERT_TRUE(h->wait_hello(10s).has_value()) << h->logs();
  ASSERT_TRUE(h->host().echo(100, 500, 10s).has_value()) << h->logs();

  const pid_t victim = program_pid(*started);
  ASSERT_GT(victim, 1);
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  auto exited = h->wait_for("program echo exited", 10s);
  ASSERT_TRUE(exited.has_value()) << h->logs();
  EXPECT_NE(exited->find("signal 9"), std::string::npos) << *exited;
  // The host owns the rings: it resets the channel the dead program may have left half-used.
  h->bus().bus().channel(0).reset();

  auto restarted = h->wait_for("program echo started", 10s);
  ASSERT_TRUE(restarted.has_value()) << h->logs();
  EXPECT_NE(program_pid(*restarted), victim);
  auto hello = h->wait_hello(10s);
  ASSERT_TRUE(hello.has_value()) << ringbus::to_string(hello.error()) << h->logs();
  auto echoed = h->host().echo(500, 2000, 20s);
  ASSERT_TRUE(echoed.has_value()) << ringbus::to_string(echoed.error()) << h->logs();
  EXPECT_EQ(echoed->bad, 0u);
}

TEST_F(SandboxTest, shouldLeaveNoProcessAfterStop) {
  auto h = start(config());
  ASSERT_TRUE(h);
  ASSERT_TRUE(h->wait_for("program echo started", 10s).has_value()) << h->logs();
  const ino_t ns = pid_ns_from_events(*h);
  ASSERT_NE(ns, 0u) << h->logs();
  EXPECT_EQ(processes_in_namespace(ns), 2);  // init + the program
  auto status = h->vmm().stop(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->clean()) << status->to_string() << h->logs();
  EXPECT_EQ(processes_in_namespace(ns), 0) << "the sandbox's pid namespace still has processes";
}

TEST_F(SandboxTest, shouldLeaveNoProcessWhenTheVmmIsKilled) {
  auto h = start(config("always"));
  ASSERT_TRUE(h);
  ASSERT_TRUE(h->wait_for("program echo started", 10s).has_value()) << h->logs();
  const ino_t ns = pid_ns_from_events(*h);
  ASSERT_NE(ns, 0u);
  // vitrine-vmm dies without any chance to clean up: PR_SET_PDEATHSIG takes sandbox init, and
  // the kernel empties a pid namespace whose init died.
  ASSERT_TRUE(h->vmm().process().signal(SIGKILL).has_value());
  EXPECT_TRUE(wait_until_empty(ns, 5s)) << processes_in_namespace(ns) << " processes left";
}

TEST_F(SandboxTest, shouldNotLetTheGuestReachAHostTcpPort) {
  // A host listener on every address, and the host's own non-loopback address if it has one.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof any;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&any), &len);
  const std::string port = std::to_string(ntohs(any.sin_port));
  std::vector<std::string> targets = {"127.0.0.1:" + port};
  ifaddrs* ifs = nullptr;
  if (::getifaddrs(&ifs) == 0) {
    for (ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      char ip[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, ip, sizeof ip);
      if (std::string(ip) != "127.0.0.1") targets.push_back(std::string(ip) + ":" + port);
    }
    ::freeifaddrs(ifs);
  }
  std::string args;
  for (const auto& t : targets) args += ", \"--probe-tcp\", \"" + t + "\"";
  auto h = start(config("never", args));
  ASSERT_TRUE(h);
  ASSERT_TRUE(h->wait_hello(10s).has_value()) << h->logs();
  for (const auto& t : targets) {
    auto probe = h->host().wait_probe(10s);
    ASSERT_TRUE(probe.has_value()) << h->logs();
    EXPECT_TRUE(probe->starts_with(t + " refused")) << *probe;
  }
  EXPECT_LT(::accept(listener, nullptr, nullptr), 0) << "a guest connection reached the host";
  ::close(listener);
}

}  // namespace
}  // namespace vitrine::hv
