// RDP into a QEMU TCG guest both ways bench_e2e compares (rdp_guest.hpp): through the ivshmem
// bus and vitrine-guest, and through virtio-net with the config's user_net_forward (hostfwd).
// Each path: the RDP + RAIL handshake, the server's ready paint, one input round trip and one
// batch of the benchmark protocol (rail_bench_protocol.hpp), decoded by the real client.
// The bus path also carries the guest's stage timestamps (kFeatureTimestamps) across a real clock
// boundary: the guest's CLOCK_MONOTONIC starts at its boot, so the learned offset must place the
// guest's boot between vitrine-vmm's start and now, and every stamp must be causal.
// Skipped with the reason without QEMU or without a guest image (the Debian archive is needed
// once to build it).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <vector>
#include <mutex>
#include <cstdio>
#include <algorithm>
#include <memory>
#include <string>

#include "guest_image.hpp"
#include "rail_bench_protocol.hpp"
#include "rdp_guest.hpp"
#include "stamp_sink.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace vitrine::hv::test {
namespace {

using namespace rdpmux::host;
using namespace std::chrono_literals;
namespace bp = vitrine::testing::bench_protocol;

// One session over an already connected client socket: ready, a probe, a batch.
::testing::AssertionResult converse(ringbus::UniqueFd fd) {
  vitrine::testing::StampSink sink;
  ClientConfig config;
  config.security = Security::kRdp;
  config.width = bp::kDesktopWidth;
  config.height = bp::kDesktopHeight;
  auto client = RdpClient::start(config, std::move(fd), sink, sink);
  if (!client) return ::testing::AssertionFailure() << "client: " << to_string(client.error());
  auto stop = [&](::testing::AssertionResult r) {
    (*client)->stop();
    return r;
  };
  if (auto up = (*client)->wait_connected(120s); !up)
    return stop(::testing::AssertionFailure() << "connect: " << to_string(up.error()));
  if (!sink.wait_stamp(bp::kReadyStamp, 120s)) return stop(::testing::AssertionFailure() << "no ready paint");
  const DesktopPoint probe{33, 44};
  (*client)->mouse_move(probe);
  if (!sink.wait_stamp(bp::probe_stamp(probe.x, probe.y), 60s))
    return stop(::testing::AssertionFailure() << "no paint for the input");
  const DesktopPoint trigger{7, bp::kTriggerTop + 1};
  (*client)->mouse_move(trigger);
  if (!sink.wait_stamp(bp::batch_stamp(bp::batch_index(trigger.x, trigger.y), bp::kBatch - 1), 120s))
    return stop(::testing::AssertionFailure() << "the batch's last paint did not arrive");
  return stop(::testing::AssertionSuccess());
}

TEST(QemuRdpTest, shouldServeRdpFromATcgGuestOverTheBusAndOverVirtioNet) {
  if (!have_qemu()) GTEST_SKIP() << "qemu-system-x86_64 not installed";
  std::mutex stamps_mutex;
  std::vector<rdpmux::GuestStamp> stamps;
  rdpmux::HostMuxOptions options;
  options.on_stamp = [&](const rdpmux::GuestStamp& s) {
    std::lock_guard lock(stamps_mutex);
    stamps.push_back(s);
  };
  const auto host_ns = [] {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
  };
  const std::uint64_t before_boot = host_ns();
  auto guest = QemuRdpGuest::create(std::move(options));
  if (!guest && guest.error().starts_with("no guest image"))
    GTEST_SKIP() << guest.error().substr(0, 2000);
  ASSERT_TRUE(guest.has_value()) << guest.error();

  // The guest's clock in the host's: its zero (the guest kernel's start) lies after vitrine-vmm
  // started and before now, unless the guest clock ran faster than the host's.
  auto clock = (*guest)->mux().sync_clock(30s, 8);
  ASSERT_TRUE(clock.has_value()) << rdpmux::to_string(clock.error());
  const std::uint64_t guest_zero = clock->to_host(0);  // host time of the guest clock's zero
  EXPECT_GT(guest_zero, before_boot) << "offset " << clock->offset_ns;
  EXPECT_LT(guest_zero, host_ns()) << "offset " << clock->offset_ns;
  ::testing::Test::RecordProperty("clock_uncertainty_us", std::to_string(clock->uncertainty_ns / 1000));
  std::printf("guest clock: offset %lld us +- %llu us; guest boot %.1f s after vitrine-vmm's start\n",
              static_cast<long long>(clock->offset_ns / 1000), static_cast<unsigned long long>(clock->uncertainty_ns / 1000),
              static_cast<double>(guest_zero - before_boot) / 1e9);

  {  // bus: HostMux -> ivshmem -> vitrine-guest -> 127.0.0.1:3390 in the guest
    auto conn = (*guest)->mux().open(rdpmux::Target::tcp(QemuRdpGuest::kGuestPort), {.framed = true, .timeout = 60s});
    ASSERT_TRUE(conn.has_value()) << conn.error().message << (*guest)->logs();
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    auto bridge = ConnectionBridge::start(std::move(*conn), ringbus::UniqueFd(fds[1]));
    ASSERT_TRUE(bridge.has_value());
    EXPECT_TRUE(converse(ringbus::UniqueFd(fds[0]))) << (*guest)->logs();
  }
  {
    // A second estimate after the session: how far the guest's clock drifted from the host's
    // (TCG's guest clock need not run at the host's rate), next to the stamps it converted.
    auto again = (*guest)->mux().sync_clock(30s, 8);
    ASSERT_TRUE(again.has_value());
    std::lock_guard lock(stamps_mutex);
    ASSERT_FALSE(stamps.empty()) << "no stamps came over the bus";
    std::vector<std::uint64_t> commit_to_read;
    for (const auto& s : stamps) {
      EXPECT_LE(s.receive_ns, s.commit_ns);
      // Causal on the host's time line: read after commit, up to the estimate's error (and 5 ms
      // for a guest clock that drifts during the session).
      EXPECT_LE(s.commit_ns, s.read_ns + 2 * s.clock_uncertainty_ns + 5'000'000);
      commit_to_read.push_back(s.commit_to_read_ns());
    }
    std::sort(commit_to_read.begin(), commit_to_read.end());
    std::printf("%zu stamps; commit_to_host_read p50 %llu us; clock drift over the session %lld us\n",
                stamps.size(), static_cast<unsigned long long>(commit_to_read[commit_to_read.size() / 2] / 1000),
                static_cast<long long>((again->offset_ns - clock->offset_ns) / 1000));
  }
  {  // net: 127.0.0.1:P -> QEMU hostfwd -> virtio-net -> 10.0.2.15:3390
    ringbus::UniqueFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons((*guest)->net_port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << (*guest)->logs();
    EXPECT_TRUE(converse(std::move(c))) << (*guest)->logs();
  }
}

}  // namespace
}  // namespace vitrine::hv::test
