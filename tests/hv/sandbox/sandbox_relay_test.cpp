// The sandbox with the real guest relay: vitrine-guest and a TCP echo server run in the
// sandbox; the host reaches the server only through HostMux -> bus -> vitrine-guest. Then the
// relay is killed: the host sees it die, resets the bus, and the restarted relay serves again.
#include <gtest/gtest.h>
#include <signal.h>
#include <xxhash.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "echo_protocol.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vmm_harness.hpp"

namespace vitrine::hv {
namespace {

using namespace std::chrono_literals;
using test::VmmHarness;

// The echo server listens on a fixed port: the sandbox has its own network namespace.
const std::string kConfig =
    "name = \"relay\"\nbackend = \"sandbox\"\n"
    "[bus]\nsize = 4194304\nchannels = 3\nring_size = 262144\n"
    "[[sandbox.program]]\nname = \"relay\"\n"
    "command = [\"" HV_GUEST_PATH "\", \"--bus-fd\", \"3\", \"--doorbell-fds\", \"4,5\"]\n"
    "restart = \"always\"\n"
    "[[sandbox.program]]\nname = \"server\"\n"
    "command = [\"python3\", \"-c\", \"import socket\\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\\n"
    "s.bind(('127.0.0.1', 7777)); s.listen(4)\\n"
    "while True:\\n"
    "  c, _ = s.accept()\\n"
    "  while True:\\n"
    "    b = c.recv(65536)\\n"
    "    if not b: break\\n"
    "    c.sendall(b)\\n"
    "  c.close()\\n\"]\n";

Result<std::unique_ptr<rdpmux::HostMux>> make_mux(VmmHarness& h) {
  std::vector<ringbus::UniqueFd> fds;
  for (int fd : {h.bus().wake_guest().fd(), h.bus().wake_host().fd()}) {
    auto d = dup_fd(fd);
    if (!d) return std::unexpected(d.error());
    fds.push_back(std::move(*d));
  }
  auto bells = rdpmux::BusDoorbells::from_fds(std::move(fds));
  if (!bells) return std::unexpected(invalid(bells.error().message));
  auto mux = rdpmux::HostMux::create(h.bus().bus(), std::move(*bells));
  if (!mux) return std::unexpected(invalid(mux.error().message));
  return std::move(*mux);
}

// Opens a connection to the echo server (retrying while it starts), pushes `bytes` of
// checksummed data through it and compares what comes back.
::testing::AssertionResult round_trip(rdpmux::HostMux& mux, std::size_t bytes) {
  std::unique_ptr<rdpmux::Connection> conn;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!conn) {
    auto c = mux.open(rdpmux::Target::tcp(7777));
    if (c) {
      conn = std::move(*c);
    } else if (std::chrono::steady_clock::now() > deadline) {
      return ::testing::AssertionFailure() << "open: " << c.error().message;
    } else {
      std::this_thread::sleep_for(100ms);
    }
  }
  std::vector<std::byte> out(bytes);
  echo::fill_checksummed(out, 42);
  std::vector<std::byte> in(bytes);
  std::size_t got = 0;
  std::size_t sent = 0;
  while (got < bytes) {
    if (sent < bytes) {
      const std::size_t n = std::min<std::size_t>(32768, bytes - sent);
      auto w = conn->write(std::span<const std::byte>(out).subspan(sent, n), 10s);
      if (!w) return ::testing::AssertionFailure() << "write: " << w.error().message;
      sent += n;
    }
    auto r = conn->read(std::span<std::byte>(in).subspan(got), sent > got ? 10s : 10ms);
    if (!r) return ::testing::AssertionFailure() << "read after " << got << " bytes: " << r.error().message;
    if (*r == 0) return ::testing::AssertionFailure() << "end of stream after " << got << " bytes";
    got += *r;
  }
  conn->close();
  if (!echo::verify_checksummed(in) || XXH3_64bits(in.data(), in.size()) != XXH3_64bits(out.data(), out.size()))
    return ::testing::AssertionFailure() << "the echoed bytes differ";
  return ::testing::AssertionSuccess();
}

TEST(SandboxRelayTest, shouldRelayThroughVitrineGuestAndSurviveARelayRestart) {
  auto h = VmmHarness::start(kConfig, HV_VMM_PATH);
  ASSERT_TRUE(h.has_value()) << ringbus::to_string(h.error());
  auto& vm = **h;
  auto started = vm.wait_for("program relay started", 10s);
  ASSERT_TRUE(started.has_value()) << vm.logs();
  {
    auto mux = make_mux(vm);
    ASSERT_TRUE(mux.has_value()) << ringbus::to_string(mux.error()) << vm.logs();
    EXPECT_TRUE(round_trip(**mux, 1 << 20)) << vm.logs();

    const pid_t relay = static_cast<pid_t>(std::stoi(started->substr(started->rfind(' ') + 1)));
    ASSERT_GT(relay, 1);
    ASSERT_EQ(::kill(relay, SIGKILL), 0);
    auto exited = vm.wait_for("program relay exited", 10s);
    ASSERT_TRUE(exited.has_value()) << vm.logs();
    EXPECT_NE(exited->find("signal 9"), std::string::npos) << *exited;
  }
  // The host owns the rings: reset every channel the dead relay may have left half-used, then
  // greet the new relay.
  for (std::uint32_t i = 0; i < vm.bus().bus().channel_count(); ++i) vm.bus().bus().channel(i).reset();
  ASSERT_TRUE(vm.wait_for("program relay started", 10s).has_value()) << vm.logs();
  auto mux = make_mux(vm);
  ASSERT_TRUE(mux.has_value()) << ringbus::to_string(mux.error()) << vm.logs();
  EXPECT_TRUE(round_trip(**mux, 1 << 20)) << vm.logs();
}

}  // namespace
}  // namespace vitrine::hv
