// A HostMux on the host side of a real bus and a fake guest that the test drives by hand on the
// guest side: it reads the host's control messages and writes any record it likes (hostile
// ones included). Shared by the catalogue and timestamp tests of HostMux.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "vitrine/rdpmux/control_codec.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"

namespace vitrine::rdpmux::testing {

class FakeGuestTest : public ::testing::Test {
 protected:
  // `shared_host_doorbell`: one host eventfd for every channel (as across a VM boundary)
  // instead of one per channel.
  void start_mux(HostMuxOptions options, std::uint32_t channels = 2, bool shared_host_doorbell = false) {
    using namespace std::chrono_literals;
    auto host = ringbus::Bus::create(ringbus::BusConfig::uniform(channels, 20, 20));
    ASSERT_TRUE(host) << ringbus::to_string(host.error());
    host_ = std::make_unique<ringbus::Bus>(std::move(*host));
    auto guest = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(host_->fd())), ringbus::Side::kGuest);
    ASSERT_TRUE(guest);
    guest_ = std::make_unique<ringbus::Bus>(std::move(*guest));
    auto bells = BusDoorbells::create_eventfds(shared_host_doorbell ? 1 : channels);
    ASSERT_TRUE(bells);
    auto guest_bells = BusDoorbells::from_fds(std::move(*bells->dup_fds()));
    ASSERT_TRUE(guest_bells);
    guest_bells_ = std::make_unique<BusDoorbells>(std::move(*guest_bells));
    ASSERT_TRUE(guest_bells_->apply(*guest_));
    auto mux = HostMux::create(*host_, std::move(*bells), std::move(options));
    ASSERT_TRUE(mux) << to_string(mux.error());
    mux_ = std::move(*mux);
  }

  // The next host message on channel 0 (waits up to 2 s).
  std::optional<ControlMessage> guest_receive() {
    using namespace std::chrono_literals;
    ringbus::Channel& ch = guest_->channel(kControlChannel);
    std::optional<ControlMessage> out;
    for (int i = 0; i < 2000 && !out; ++i) {
      auto n = ch.rx().read(
          [&](const ringbus::RecordView& r) {
            auto m = decode_control(r.type, r.payload);
            EXPECT_TRUE(m) << to_string(m.error());
            if (m) out = std::move(*m);
          },
          1);
      EXPECT_TRUE(n);
      if (n && *n) ch.notify_released();
      else std::this_thread::sleep_for(1ms);
    }
    return out;
  }
  // Any record on `channel` (0: control).
  void guest_send(std::uint16_t type, std::span<const std::byte> payload, std::uint32_t channel = kControlChannel,
                  std::uint16_t flags = 0) {
    auto sent = guest_->channel(channel).try_send(type, payload, flags);
    ASSERT_TRUE(sent && *sent);
  }
  void guest_send(const ControlMessage& m) {
    const auto e = encode_control(m);
    guest_send(e.type, e.payload());
  }
  // Answers the host's Hello with `features` (limited to what the host offered).
  void guest_hello(std::uint32_t features) {
    using namespace std::chrono_literals;
    auto hello = guest_receive();
    ASSERT_TRUE(hello && std::holds_alternative<HelloMsg>(*hello));
    offered_ = std::get<HelloMsg>(*hello).features;
    guest_send(make_hello_reply(kProtocolVersion, features & offered_, 0, 1));
    ASSERT_TRUE(mux_->wait_ready(2s));
  }
  // Opens a connection (TCP 3389 in the guest), the fake guest answering Opened.
  std::unique_ptr<Connection> open_connection() {
    using namespace std::chrono_literals;
    std::thread guest([this] {
      auto m = guest_receive();
      ASSERT_TRUE(m && std::holds_alternative<OpenMsg>(*m));
      const auto& open = std::get<OpenMsg>(*m);
      guest_send(OpenedMsg{open.request_id, open.channel, 0, 0});
      guest_->channel(kControlChannel).notify_sent();
    });
    auto c = mux_->open(Target::tcp(3389), {.framed = false, .timeout = 2000ms});
    guest.join();
    EXPECT_TRUE(c) << (c ? "" : to_string(c.error()));
    return c ? std::move(*c) : nullptr;
  }
  // Drains the guest's view of host messages; counts ErrorReplies.
  int guest_error_replies() {
    int n = 0;
    ringbus::Channel& ch = guest_->channel(kControlChannel);
    for (;;) {
      auto r = ch.rx().read([&](const ringbus::RecordView& rec) { n += rec.type == kMsgErrorReply ? 1 : 0; }, 64);
      if (!r || *r == 0) break;
      ch.notify_released();
    }
    return n;
  }

  std::unique_ptr<ringbus::Bus> host_, guest_;
  std::unique_ptr<BusDoorbells> guest_bells_;
  std::unique_ptr<HostMux> mux_;
  std::uint32_t offered_ = 0;
};

}  // namespace vitrine::rdpmux::testing
