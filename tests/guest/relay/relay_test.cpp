#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "relay_fixture.hpp"

namespace vitrine::relay::testing {
namespace {

TEST_F(RelayFixture, HelloPingAndStats) {
  start();
  auto rtt = mux_->ping(2s);
  ASSERT_TRUE(rtt.has_value()) << rdpmux::to_string(rtt.error());
  auto stats = mux_->stats(2s);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->open_connections, 0u);
  EXPECT_EQ(stats->bytes_copied, 0u);
}

TEST_F(RelayFixture, OpenOfAClosedPortFailsWithTheGuestErrno) {
  start();
  Listener l = Listener::open();
  const std::uint16_t port = l.port;
  l.fd.reset();  // nobody listens there any more
  auto c = mux_->open(rdpmux::Target::tcp(port));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, rdpmux::Errc::kOpenFailed);
  EXPECT_EQ(c.error().sys_errno, ECONNREFUSED);
  EXPECT_NE(c.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << c.error().message;
  EXPECT_EQ(mux_->free_channels(), mux_->channel_count() - 1);
}

TEST_F(RelayFixture, EchoBothWaysThenHalfClose) {
  start();
  Listener l = Listener::open();
  std::thread server([&] {
    auto s = l.accept();
    std::byte buf[65536];
    for (;;) {
      const ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
      if (n <= 0) break;
      ASSERT_TRUE(send_all(s.get(), buf, static_cast<std::size_t>(n)));
    }
    ::shutdown(s.get(), SHUT_WR);  // our half-close after the host's
  });
  auto c = open_tcp(l.port);
  ASSERT_TRUE(c);
  std::vector<std::byte> out(3 << 20), in(out.size());
  fill_pattern(out.data(), out.size(), 0, 1);
  std::size_t got = 0;
  // Interleave writing and reading so that the echo never stalls on full rings.
  for (std::size_t off = 0; off < out.size(); off += 256 * 1024) {
    ASSERT_TRUE(c->write(std::span(out).subspan(off, 256 * 1024), 5s));
    while (got < off + 128 * 1024) {
      auto n = c->read(std::span(in).subspan(got), 5s);
      ASSERT_TRUE(n.has_value()) << rdpmux::to_string(n.error());
      got += *n;
    }
  }
  ASSERT_TRUE(c->shutdown_write());
  while (got < in.size()) {
    auto n = c->read(std::span(in).subspan(got), 5s);
    ASSERT_TRUE(n.has_value() && *n > 0);
    got += *n;
  }
  auto end = c->read(std::span(in).first(1), 5s);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(*end, 0u);  // the server's FIN after ours
  EXPECT_EQ(XXH3_64bits(in.data(), in.size()), XXH3_64bits(out.data(), out.size()));
  server.join();
  c.reset();
  EXPECT_EQ(relay_->counters().bytes_copied.get(), 0u);
  EXPECT_EQ(relay_->counters().bytes_received_elsewhere.get(), 0u);
}

TEST_F(RelayFixture, TinyRingsWrapConstantly) {
  // 8 KiB rings: nearly every claim needs a padding record at the wrap. A consumer that steps
  // over padding without releasing it would leave the producer waiting forever.
  start(2, 13);
  Listener l = Listener::open();
  std::thread server([&] {
    auto s = l.accept();
    std::byte buf[3000];
    for (;;) {
      const ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
      if (n <= 0) break;
      ASSERT_TRUE(send_all(s.get(), buf, static_cast<std::size_t>(n)));
    }
  });
  auto c = open_tcp(l.port);
  ASSERT_TRUE(c);
  std::mt19937 rng(3);
  std::vector<std::byte> out(4 << 20), in(out.size());
  fill_pattern(out.data(), out.size(), 0, 5);
  std::size_t sent = 0, got = 0;
  while (got < out.size()) {
    if (sent < out.size() && sent - got < 6000) {
      const std::size_t n = std::min<std::size_t>(out.size() - sent, 1 + rng() % 3000);
      ASSERT_TRUE(c->write(std::span(out).subspan(sent, n), 5s));
      sent += n;
      continue;
    }
    auto n = c->read(std::span(in).subspan(got, sent - got), 5s);
    ASSERT_TRUE(n.has_value()) << rdpmux::to_string(n.error()) << " after " << got << " bytes";
    got += *n;
  }
  EXPECT_EQ(std::memcmp(in.data(), out.data(), out.size()), 0);
  c.reset();
  server.join();
}

TEST_F(RelayFixture, UnixSocketTarget) {
  start();
  char dir[] = "/tmp/vitrine-relay-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/rdp.sock";
  ringbus::UniqueFd ls(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, path.c_str());
  ASSERT_EQ(::bind(ls.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(ls.get(), 1), 0);
  std::thread server([&] {
    ringbus::UniqueFd s(::accept(ls.get(), nullptr, nullptr));
    const char hello[] = "hello over unix";
    send_all(s.get(), reinterpret_cast<const std::byte*>(hello), sizeof hello);
  });
  auto c = mux_->open(rdpmux::Target::unix_socket(path));
  ASSERT_TRUE(c.has_value()) << rdpmux::to_string(c.error());
  std::byte buf[64];
  std::size_t got = 0;
  for (;;) {
    auto n = (*c)->read(std::span(buf).subspan(got), 5s);
    ASSERT_TRUE(n.has_value());
    if (*n == 0) break;
    got += *n;
  }
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf)), "hello over unix");
  server.join();
  ::unlink(path.c_str());
  ::rmdir(dir);
}

// Reads everything until EOF; returns the byte count and checks the pattern.
std::uint64_t drain_pattern(rdpmux::Connection& c, std::uint64_t seed) {
  std::vector<std::byte> buf(256 * 1024), want(buf.size());
  std::uint64_t total = 0;
  for (;;) {
    auto n = c.read(buf, 10s);
    EXPECT_TRUE(n.has_value()) << (n ? "" : rdpmux::to_string(n.error()));
    if (!n || *n == 0) return total;
    fill_pattern(want.data(), *n, total, seed);
    EXPECT_EQ(std::memcmp(buf.data(), want.data(), *n), 0) << "at offset " << total;
    total += *n;
  }
}

TEST_F(RelayFixture, FullRingPausesReceivingAndLosesNothing) {
  start(3, 16);  // 64 KiB rings: the sender outruns the ring at once
  Listener l = Listener::open();
  constexpr std::uint64_t kBytes = 16 << 20;
  std::thread server([&] {
    auto s = l.accept();
    std::vector<std::byte> chunk(100000);
    for (std::uint64_t off = 0; off < kBytes; off += chunk.size()) {
      const std::size_t n = std::min<std::uint64_t>(chunk.size(), kBytes - off);
      fill_pattern(chunk.data(), n, off, 7);
      ASSERT_TRUE(send_all(s.get(), chunk.data(), n));
    }
  });
  auto c = open_tcp(l.port);
  ASSERT_TRUE(c);
  std::this_thread::sleep_for(200ms);  // let the ring fill while nobody reads
  EXPECT_GT(relay_->counters().backpressure_events.get(), 0u);
  EXPECT_EQ(drain_pattern(*c, 7), kBytes);
  server.join();
}

TEST_F(RelayFixture, SeveralConnectionsAtOnce) {
  start(5, 18);
  Listener l = Listener::open();
  constexpr int kConns = 4;
  constexpr std::uint64_t kBytes = 24 << 20;
  std::thread server([&] {
    std::vector<std::thread> workers;
    for (int i = 0; i < kConns; ++i) {
      auto s = std::make_shared<ringbus::UniqueFd>(l.accept());
      workers.emplace_back([s] {
        // First 8 bytes from the client: which pattern to send back.
        std::uint64_t seed = 0;
        ASSERT_EQ(::recv(s->get(), &seed, 8, MSG_WAITALL), 8);
        std::vector<std::byte> chunk(65536);
        for (std::uint64_t off = 0; off < kBytes; off += chunk.size()) {
          fill_pattern(chunk.data(), chunk.size(), off, seed);
          ASSERT_TRUE(send_all(s->get(), chunk.data(), chunk.size()));
        }
      });
    }
    for (auto& w : workers) w.join();
  });
  std::vector<std::unique_ptr<rdpmux::Connection>> conns;
  for (int i = 0; i < kConns; ++i) {
    conns.push_back(open_tcp(l.port));
    ASSERT_TRUE(conns.back());
    const std::uint64_t seed = 100 + i;
    ASSERT_TRUE(conns.back()->write(std::as_bytes(std::span(&seed, 1)), 1s));
  }
  std::vector<std::thread> readers;
  std::vector<std::uint64_t> totals(kConns);
  for (int i = 0; i < kConns; ++i)
    readers.emplace_back([&, i] { totals[i] = drain_pattern(*conns[i], 100 + i); });
  for (auto& r : readers) r.join();
  for (int i = 0; i < kConns; ++i) EXPECT_EQ(totals[i], kBytes) << "connection " << i;
  server.join();
}

TEST_F(RelayFixture, ServerGoneMidStreamClosesBothSidesAndReusesTheChannel) {
  start(2);  // one connection channel: reuse is forced
  Listener l = Listener::open();
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto s = l.accept();
    std::vector<std::byte> chunk(65536);
    for (std::uint64_t off = 0;; off += chunk.size()) {
      fill_pattern(chunk.data(), chunk.size(), off, 3);
      if (!send_all(s.get(), chunk.data(), chunk.size())) ::_exit(0);
    }
  }
  auto c = open_tcp(l.port);
  ASSERT_TRUE(c);
  const std::uint32_t channel = c->channel_id();
  std::vector<std::byte> buf(1 << 20);
  std::uint64_t total = 0;
  while (total < (8u << 20)) {
    auto n = c->read(buf, 5s);
    ASSERT_TRUE(n.has_value() && *n > 0);
    total += *n;
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  // Whatever was in flight arrives, then the end of the stream (FIN or reset).
  for (;;) {
    auto n = c->read(buf, 5s);
    if (!n) {
      EXPECT_EQ(n.error().code, rdpmux::Errc::kPeerClosed) << rdpmux::to_string(n.error());
      break;
    }
    if (*n == 0) break;
  }
  EXPECT_TRUE(c->eof());
  EXPECT_EQ(mux_->free_channels(), 0u);
  c.reset();
  // The channel comes back once the guest confirmed; then it carries a new connection.
  std::unique_ptr<rdpmux::Connection> again;
  Listener l2 = Listener::open();
  std::thread server2([&] {
    auto s = l2.accept();
    const char msg[] = "second";
    send_all(s.get(), reinterpret_cast<const std::byte*>(msg), sizeof msg);
  });
  for (int i = 0; i < 200 && !again; ++i) {
    auto r = mux_->open(rdpmux::Target::tcp(l2.port));
    if (r) again = std::move(*r);
    else if (r.error().code == rdpmux::Errc::kNoFreeChannel) std::this_thread::sleep_for(10ms);
    else FAIL() << rdpmux::to_string(r.error());
  }
  ASSERT_TRUE(again);
  EXPECT_EQ(again->channel_id(), channel);
  std::byte msg[7];
  std::size_t got = 0;
  while (got < sizeof msg) {
    auto n = again->read(std::span(msg).subspan(got), 5s);
    ASSERT_TRUE(n.has_value() && *n > 0);
    got += *n;
  }
  EXPECT_STREQ(reinterpret_cast<const char*>(msg), "second");
  server2.join();
}

TEST_F(RelayFixture, HostCloseAbortsTheGuestSocket) {
  start(2);
  Listener l = Listener::open();
  std::atomic<bool> saw_eof{false};
  std::thread server([&] {
    auto s = l.accept();
    std::byte b[16];
    // The relay closes its socket when the host closes: we see EOF (or reset).
    saw_eof = ::recv(s.get(), b, sizeof b, 0) <= 0;
  });
  auto c = open_tcp(l.port);
  ASSERT_TRUE(c);
  c->close();
  server.join();
  EXPECT_TRUE(saw_eof);
  for (int i = 0; i < 200 && mux_->free_channels() == 0; ++i) {
    mux_->poll();
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(mux_->free_channels(), 1u);
}

TEST_F(RelayFixture, HostileControlMessagesGetErrorRepliesAndTheRelayGoesOn) {
  start();
  ringbus::Channel& ch = host_bus_->channel(0);
  std::mt19937 rng(11);
  std::vector<std::byte> junk(200);
  for (int i = 0; i < 300; ++i) {
    for (auto& b : junk) b = static_cast<std::byte>(rng());
    const auto type = static_cast<std::uint16_t>(1 + rng() % 40);
    if (type == rdpmux::kMsgHello || type == rdpmux::kMsgOpen) continue;  // valid ones might pass
    ASSERT_TRUE(ch.try_send(type, std::span(junk).first(rng() % junk.size())).value_or(false));
  }
  auto rtt = mux_->ping(5s);
  ASSERT_TRUE(rtt.has_value()) << rdpmux::to_string(rtt.error());
  EXPECT_GT(mux_->counters().error_replies.load(), 0u);
  EXPECT_GT(relay_->counters().protocol_errors.get(), 0u);
}

}  // namespace
}  // namespace vitrine::relay::testing
