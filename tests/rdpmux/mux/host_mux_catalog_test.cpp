// HostMux and the application catalogue, against a fake guest that this test drives by hand on
// the guest side of a real bus: negotiation, in-order delivery through poll() and the control
// wake fd, CatalogRequest, and a hostile guest's fragments (wrong sizes, huge totals, wrong
// order, not negotiated) counted as protocol errors while the host keeps working.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "fake_guest.hpp"
#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"

namespace vitrine::rdpmux {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::byte>;

Bytes fragment(std::uint32_t generation, std::uint32_t offset, std::uint32_t total, std::uint32_t length,
               std::size_t data_bytes, std::byte fill = std::byte{0x42}) {
  CatalogFragmentHeader h{kCatalogFragmentMagic, generation, offset, total, length, 0};
  Bytes out(sizeof h + data_bytes, fill);
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

class HostMuxCatalog : public testing::FakeGuestTest {
 protected:
  void start(bool with_callback) {
    HostMuxOptions options;
    if (with_callback)
      options.on_catalog_fragment = [this](std::span<const std::byte> f) { got_.emplace_back(f.begin(), f.end()); };
    start_mux(std::move(options));
  }

  std::vector<Bytes> got_;
};

TEST_F(HostMuxCatalog, FragmentsArriveInOrderThroughPollAndTheWakeFd) {
  start(true);
  guest_hello(kKnownFeatures);
  EXPECT_NE(offered_ & kFeatureCatalog, 0u);
  EXPECT_TRUE(mux_->catalog_negotiated());
  ASSERT_GE(mux_->control_wake_fd(), 0);

  const auto a = fragment(4, 0, 300, 100, 100, std::byte{1});
  const auto b = fragment(4, 100, 300, 150, 150, std::byte{2});
  const auto c = fragment(4, 250, 300, 50, 50, std::byte{3});
  guest_send(kMsgCatalogFragment, a);
  guest_send(kMsgCatalogFragment, b);
  // Messages already there: the loop must not sleep.
  EXPECT_FALSE(mux_->arm_control_wake());
  mux_->poll();
  ASSERT_EQ(got_.size(), 2u);
  EXPECT_EQ(got_[0], a);
  EXPECT_EQ(got_[1], b);

  // Nothing pending: arm, sleep on the fd, the guest's record wakes it.
  ASSERT_TRUE(mux_->arm_control_wake());
  std::thread guest([&] {
    std::this_thread::sleep_for(50ms);
    guest_send(kMsgCatalogFragment, c);
    guest_->channel(kControlChannel).notify_sent();
  });
  pollfd pfd{mux_->control_wake_fd(), POLLIN, 0};
  const int rc = ::poll(&pfd, 1, 5000);
  guest.join();
  ASSERT_EQ(rc, 1) << "the guest's record did not ring the control wake fd";
  mux_->poll();
  ASSERT_EQ(got_.size(), 3u);
  EXPECT_EQ(got_[2], c);
  EXPECT_EQ(mux_->counters().catalog_fragments.load(), 3u);
  EXPECT_EQ(mux_->counters().catalogs_complete.load(), 1u);
  EXPECT_EQ(mux_->counters().protocol_errors.load(), 0u);
  // poll() drained the eventfd: it is quiet again.
  pfd.revents = 0;
  EXPECT_EQ(::poll(&pfd, 1, 0), 0);

  ASSERT_TRUE(mux_->request_catalog());
  auto req = guest_receive();
  ASSERT_TRUE(req);
  EXPECT_TRUE(std::holds_alternative<CatalogRequestMsg>(*req));
}

TEST_F(HostMuxCatalog, AControlCallOnAnotherThreadHandsTheWakeUpBack) {
  start(true);
  guest_hello(kKnownFeatures);
  ASSERT_TRUE(mux_->arm_control_wake());
  // ping() on this thread consumes the doorbell; the armed loop must still be woken.
  std::thread guest([&] {
    auto ping = guest_receive();
    ASSERT_TRUE(ping && std::holds_alternative<PingMsg>(*ping));
    guest_send(kMsgCatalogFragment, fragment(1, 0, 10, 10, 10));
    const auto& p = std::get<PingMsg>(*ping);
    guest_send(PongMsg{p.nonce, p.sent_ns});
    guest_->channel(kControlChannel).notify_sent();
  });
  ASSERT_TRUE(mux_->ping(2s));
  guest.join();
  // ping() drained the fragment itself ...
  EXPECT_EQ(got_.size(), 1u);
  // ... and rang the fd for the loop.
  pollfd pfd{mux_->control_wake_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&pfd, 1, 2000), 1);
  mux_->poll();
}

TEST_F(HostMuxCatalog, HostileFragmentsAreProtocolErrorsAndTheHostStaysUp) {
  start(true);
  guest_hello(kKnownFeatures);
  std::uint64_t errors = 0;
  auto expect_rejected = [&](std::uint16_t type, const Bytes& payload, const char* what) {
    const std::size_t delivered = got_.size();
    guest_send(type, payload);
    mux_->poll();
    EXPECT_EQ(mux_->counters().protocol_errors.load(), ++errors) << what;
    EXPECT_EQ(got_.size(), delivered) << what << ": nothing may be delivered";
  };
  expect_rejected(kMsgCatalogFragment, Bytes(10), "shorter than the header");
  expect_rejected(kMsgCatalogFragment, fragment(1, 0, 100, 50, 40), "length disagrees with the record");
  expect_rejected(kMsgCatalogFragment, fragment(1, 0, 0xFFFFFFFFu, 8, 8), "huge total");
  expect_rejected(kMsgCatalogFragment, fragment(1, 0xFFFFFFF8u, 0xFFFFFFFFu, 16, 16), "offset + length wraps");
  expect_rejected(kMsgCatalogFragment, fragment(1, 0, kMaxCatalogFragmentBytes * 2, kMaxCatalogFragmentBytes,
                                                kMaxCatalogFragmentBytes),
                  "record above kMaxCatalogFragmentBytes");
  expect_rejected(kMsgCatalogFragment, fragment(1, 50, 100, 50, 50), "no start");
  expect_rejected(kMsgCatalogRequest, Bytes(8), "a host message sent by the guest");

  // A stream that starts well, then jumps: the jump is an error and drops the stream ...
  guest_send(kMsgCatalogFragment, fragment(2, 0, 100, 40, 40));
  mux_->poll();
  ASSERT_EQ(got_.size(), 1u);
  expect_rejected(kMsgCatalogFragment, fragment(2, 60, 100, 40, 40), "gap");
  // ... so its continuation is out of order too.
  expect_rejected(kMsgCatalogFragment, fragment(2, 40, 100, 60, 60), "continuation of a dropped stream");
  got_.clear();
  guest_send(kMsgCatalogFragment, fragment(3, 0, 100, 40, 40));
  mux_->poll();
  expect_rejected(kMsgCatalogFragment, fragment(4, 40, 100, 60, 60), "another generation");
  guest_send(kMsgCatalogFragment, fragment(5, 0, 100, 40, 40));
  mux_->poll();
  expect_rejected(kMsgCatalogFragment, fragment(5, 40, 200, 60, 60), "another total");
  got_.clear();

  // The guest got an ErrorReply for each, and the host still works: a good catalogue arrives.
  EXPECT_EQ(guest_error_replies(), static_cast<int>(errors));
  guest_send(kMsgCatalogFragment, fragment(9, 0, 20, 10, 10));
  guest_send(kMsgCatalogFragment, fragment(9, 10, 20, 10, 10));
  mux_->poll();
  EXPECT_EQ(got_.size(), 2u);
  EXPECT_EQ(mux_->counters().catalogs_complete.load(), 1u);
  EXPECT_EQ(mux_->counters().protocol_errors.load(), errors);
}

TEST_F(HostMuxCatalog, WithoutACallbackTheCatalogueIsNotNegotiated) {
  start(false);
  guest_hello(kKnownFeatures | kFeatureCatalog);
  EXPECT_EQ(offered_ & kFeatureCatalog, 0u);
  EXPECT_FALSE(mux_->catalog_negotiated());
  EXPECT_EQ(mux_->request_catalog().error().code, Errc::kInvalidArgument);
  guest_send(kMsgCatalogFragment, fragment(1, 0, 10, 10, 10));
  mux_->poll();
  EXPECT_EQ(mux_->counters().protocol_errors.load(), 1u);
  EXPECT_EQ(mux_->counters().catalog_fragments.load(), 0u);
}

TEST_F(HostMuxCatalog, AGuestThatDeclinesTheCatalogueGetsNoRequests) {
  start(true);
  guest_hello(kKnownFeatures & ~kFeatureCatalog);
  EXPECT_FALSE(mux_->catalog_negotiated());
  EXPECT_EQ(mux_->request_catalog().error().code, Errc::kInvalidArgument);
  guest_send(kMsgCatalogFragment, fragment(1, 0, 10, 10, 10));
  mux_->poll();
  EXPECT_EQ(mux_->counters().protocol_errors.load(), 1u);
  EXPECT_TRUE(got_.empty());
}

}  // namespace
}  // namespace vitrine::rdpmux
