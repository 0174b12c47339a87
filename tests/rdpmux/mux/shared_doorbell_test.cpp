// One host doorbell shared by every channel (a VM has one eventfd per direction): whoever
// drains it takes the wake-up from every other sleeper. A Connection thread that drained it
// passes it on when another channel's reader sleeps with records waiting, and control calls
// (ping) poll instead of draining it. Without these, each case below waits out its timeout.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "fake_guest.hpp"

namespace vitrine::rdpmux {
namespace {

using namespace std::chrono_literals;

class SharedDoorbell : public testing::FakeGuestTest {
 protected:
  void SetUp() override {
    start_mux({}, 3, /*shared_host_doorbell=*/true);
    guest_hello(kKnownFeatures);
    ASSERT_EQ(mux_->control_wake_fd(), -1);  // shared: no control fd of its own
  }
  // Commits a record on g2h `channel` WITHOUT ringing: as if the ring happened and another
  // thread drained it first.
  void guest_commit_silently(std::uint32_t channel, std::string_view text) {
    auto cl = guest_->channel(channel).tx().try_claim(static_cast<std::uint32_t>(text.size()));
    ASSERT_TRUE(cl && *cl);
    std::memcpy((*cl).data, text.data(), text.size());
    guest_->channel(channel).tx().commit(static_cast<std::uint32_t>(text.size()), kRecordData);
  }
};

TEST_F(SharedDoorbell, AThreadThatDrainedItWakesTheReaderItWasMeantFor) {
  auto a = open_connection();
  auto b = open_connection();
  ASSERT_TRUE(a && b);
  ASSERT_NE(a->channel_id(), b->channel_id());
  // Earlier control traffic (Opened) rang the shared eventfd: start from a drained one.
  a->finish_wait();
  // a's pump: arm, then sleep on the (shared) eventfd as ConnectionBridge does.
  std::atomic<bool> armed{false};
  int woke = -1;
  std::thread pump([&] {
    ASSERT_FALSE(a->prepare_wait(true, false));
    armed = true;
    pollfd p{a->wake_fd(), POLLIN, 0};
    woke = ::poll(&p, 1, 4000);  // 1: woken; 0: slept through its record to the timeout
    a->finish_wait();
  });
  while (!armed) std::this_thread::sleep_for(1ms);
  // A record for a that nobody rings for (the ring went to the eventfd, and ...
  guest_commit_silently(a->channel_id(), "hello");
  // ... b's pump drained it): b wakes, finds nothing of its own, finishes its wait.
  ASSERT_FALSE(b->prepare_wait(true, false));
  b->finish_wait();
  pump.join();
  EXPECT_EQ(woke, 1) << "the reader of the other channel slept through its record";
  std::string text(5, '\0');
  auto n = a->read(std::as_writable_bytes(std::span(text)), 1s);
  ASSERT_TRUE(n);
  EXPECT_EQ(text, "hello");
}

TEST_F(SharedDoorbell, ControlCallsDoNotStealTheConnectionsWakeUps) {
  auto a = open_connection();
  ASSERT_TRUE(a);
  // A ping that the guest answers: while it waits, it must not drain the shared eventfd.
  std::thread guest([&] {
    auto m = guest_receive();
    ASSERT_TRUE(m && std::holds_alternative<PingMsg>(*m));
    guest_send(PongMsg{std::get<PingMsg>(*m).nonce, std::get<PingMsg>(*m).sent_ns});
    guest_->channel(kControlChannel).notify_sent();
  });
  const int fd = a->wake_fd();
  ASSERT_GE(fd, 0);
  // The connection's pump arms and (as the guest) a record arrives with its doorbell.
  ASSERT_FALSE(a->prepare_wait(true, false));
  guest_commit_silently(a->channel_id(), "x");
  std::uint64_t one = 1;  // the guest's ring of the shared host eventfd
  ASSERT_EQ(::write(fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  auto rtt = mux_->ping(2s);
  guest.join();
  ASSERT_TRUE(rtt) << to_string(rtt.error());
  // The wake-up is still there for the pump.
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 1) << "the ping drained the connection's wake-up";
  a->finish_wait();
}

// Hostile guest (issue 17): the guest writes the control blocks of every ring, including the
// host's "consumer waiting" flag and the head of a channel the host never opened. Forging a
// sleeping reader with records pending there used to make every drain of the shared doorbell
// ring it again: a host core pinned by the guest. Only the host's own state decides now.
TEST_F(SharedDoorbell, AForgedSleepingReaderOnAnUnopenedChannelGetsNoWakeUps) {
  auto a = open_connection();
  ASSERT_TRUE(a);
  a->finish_wait();  // start from a drained eventfd
  // The guest forges channel 2 (never opened by the host): "the host sleeps" and "records wait".
  const ringbus::ChannelDesc& d = guest_->layout().channels.at(2);
  auto* forged = reinterpret_cast<ringbus::RingControl*>(guest_->base() + d.g2h_offset);
  std::atomic_ref<std::uint32_t>(forged->consumer_waiting).store(1);
  std::atomic_ref<std::uint64_t>(forged->tail).store(4096);
  std::atomic_ref<std::uint64_t>(forged->head).store(0);
  // a's pump wakes and finishes its wait again and again (the guest rings the shared eventfd).
  const int fd = a->wake_fd();
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 100; ++i) {
    std::uint64_t one = 1;
    ASSERT_EQ(::write(fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
    ASSERT_FALSE(a->prepare_wait(true, false)) << "nothing for a: it sleeps";
    pollfd p{fd, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 1000), 1);  // the guest's ring
    a->finish_wait();                    // drains the eventfd, passes the wake-up on if someone waits
    ASSERT_EQ(::poll(&p, 1, 0), 0) << "round " << i << ": the host rang the shared doorbell for a forged reader";
  }
}

}  // namespace
}  // namespace vitrine::rdpmux
