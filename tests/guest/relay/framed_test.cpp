// Framed connections: every record the host sees holds whole RDP PDUs, however the server's
// bytes were cut into TCP segments; bad framing ends that connection only.
#include <random>

#include "rdp_stream.hpp"
#include "relay_fixture.hpp"
#include "vitrine/rdpmux/pdu_framer.hpp"

namespace vitrine::relay::testing {
namespace {

TEST_F(RelayFixture, RecordsHoldWholePdusUnderAnySegmentation) {
  start(3, 20);
  Listener l = Listener::open();
  const auto stream = rdpmux::testing::session_stream(21, 3000);
  std::thread server([&] {
    auto s = l.accept();
    const int one = 1;
    ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::mt19937 rng(4);
    std::size_t pos = 0;
    while (pos < stream.data.size()) {
      // Writes that cut PDUs anywhere: inside headers, inside bodies, several PDUs at once.
      const std::size_t n = std::min<std::size_t>(stream.data.size() - pos, 1 + rng() % 9000);
      ASSERT_TRUE(send_all(s.get(), stream.data.data() + pos, n));
      pos += n;
      if (rng() % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  auto c = open_tcp(l.port, true);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->framed());
  std::vector<std::byte> got;
  std::size_t records = 0;
  for (;;) {
    auto span = c->peek_read();
    ASSERT_TRUE(span.has_value());
    if (span->empty()) {
      if (c->eof()) break;
      ASSERT_TRUE(c->channel().wait_readable(ringbus::WaitPolicy::adaptive(), 5s).value_or(false));
      continue;
    }
    // A fresh framer over this record alone must end exactly at a boundary.
    rdpmux::PduFramer f;
    std::span<const std::byte> rest = *span;
    while (!rest.empty()) {
      auto r = f.feed(rest);
      ASSERT_TRUE(r.has_value()) << rdpmux::to_string(r.error());
      rest = rest.subspan(r->consumed);
    }
    ASSERT_TRUE(f.at_boundary()) << "record " << records << " ends inside a PDU";
    got.insert(got.end(), span->begin(), span->end());
    ++records;
    c->consume(span->size());
  }
  EXPECT_EQ(c->end_error(), 0);
  EXPECT_EQ(c->stats().whole_pdu_records, c->stats().records_read);
  ASSERT_EQ(got.size(), stream.data.size());
  EXPECT_EQ(XXH3_64bits(got.data(), got.size()), XXH3_64bits(stream.data.data(), stream.data.size()));
  server.join();
}

TEST_F(RelayFixture, BadFramingClosesThatConnectionOnly) {
  start(3, 20);
  Listener l = Listener::open();
  std::thread server([&] {
    auto good = l.accept();
    auto bad = l.accept();
    const auto confirm = rdpmux::testing::x224_connection_confirm();
    ASSERT_TRUE(send_all(bad.get(), confirm.data(), confirm.size()));
    const std::byte junk[] = {std::byte{0x01}, std::byte{0x02}, std::byte{0x03}};
    ASSERT_TRUE(send_all(bad.get(), junk, sizeof junk));
    ASSERT_TRUE(send_all(good.get(), confirm.data(), confirm.size()));
    std::byte b;
    ::recv(bad.get(), &b, 1, 0);  // until the relay drops it
  });
  auto good = open_tcp(l.port, true);
  auto bad = open_tcp(l.port, true);
  ASSERT_TRUE(good && bad);
  std::vector<std::byte> buf(64);
  std::size_t n_bad = 0;
  rdpmux::Error err{};
  for (;;) {
    auto n = bad->read(std::span(buf).subspan(n_bad), 5s);
    if (!n) {
      err = n.error();
      break;
    }
    ASSERT_GT(*n, 0u) << "expected an error end, not a clean one";
    n_bad += *n;
  }
  EXPECT_EQ(n_bad, 19u);  // the whole PDU before the junk still arrives
  EXPECT_EQ(err.code, rdpmux::Errc::kPeerClosed);
  EXPECT_EQ(err.sys_errno, EPROTO);
  std::size_t n_good = 0;
  while (n_good < 19) {
    auto n = good->read(std::span(buf).subspan(n_good), 5s);
    ASSERT_TRUE(n.has_value() && *n > 0);
    n_good += *n;
  }
  EXPECT_EQ(relay_->counters().framing_errors.get(), 1u);
  bad.reset();
  // Opened and Closed may reach the host in one batch: neither is a protocol error.
  mux_->poll();
  EXPECT_EQ(mux_->counters().protocol_errors.load(), 0u);
  server.join();
}

TEST_F(RelayFixture, SourceToSinkThroughTheRelay) {
  // 1 GiB (a few seconds here); 16 GiB with VITRINE_SOAK=1.
  const char* soak = std::getenv("VITRINE_SOAK");
  const std::uint64_t kBytes = (soak && *soak == '1') ? (16ull << 30) : (1ull << 30);
  start(3, 21);
  Listener source = Listener::open();
  Listener sink = Listener::open();
  std::uint64_t sent_hash = 0, sink_hash = 0, sink_bytes = 0;
  std::thread src([&] {
    auto s = source.accept();
    XXH3_state_t* h = XXH3_createState();
    XXH3_64bits_reset(h);
    std::vector<std::byte> chunk(1 << 20);
    for (std::uint64_t off = 0; off < kBytes; off += chunk.size()) {
      fill_pattern(chunk.data(), 4096, off, 9);  // cheap: vary the first page of each chunk
      XXH3_64bits_update(h, chunk.data(), chunk.size());
      ASSERT_TRUE(send_all(s.get(), chunk.data(), chunk.size()));
    }
    sent_hash = XXH3_64bits_digest(h);
    XXH3_freeState(h);
  });
  std::thread snk([&] {
    auto s = sink.accept();
    XXH3_state_t* h = XXH3_createState();
    XXH3_64bits_reset(h);
    std::vector<std::byte> buf(1 << 20);
    for (;;) {
      const ssize_t n = ::recv(s.get(), buf.data(), buf.size(), 0);
      if (n <= 0) break;
      XXH3_64bits_update(h, buf.data(), static_cast<std::size_t>(n));
      sink_bytes += static_cast<std::uint64_t>(n);
    }
    sink_hash = XXH3_64bits_digest(h);
    XXH3_freeState(h);
  });
  // guest source -> relay -> host -> relay -> guest sink, with zero-copy host calls: the
  // bytes move from one ring's record into the other ring's claim (the only user copy, on
  // the host; the relay copies nothing).
  auto in = open_tcp(source.port);
  auto out = open_tcp(sink.port);
  ASSERT_TRUE(in && out);
  std::uint64_t moved = 0;
  for (;;) {
    auto span = in->peek_read();
    ASSERT_TRUE(span.has_value());
    if (span->empty()) {
      if (in->eof()) break;
      ASSERT_TRUE(in->channel().wait_readable(ringbus::WaitPolicy::adaptive(), 10s).value_or(false));
      continue;
    }
    ASSERT_TRUE(out->write(*span, 10s));
    moved += span->size();
    in->consume(span->size());
  }
  ASSERT_TRUE(out->shutdown_write());
  src.join();
  snk.join();
  EXPECT_EQ(moved, kBytes);
  EXPECT_EQ(sink_bytes, kBytes);
  EXPECT_EQ(sink_hash, sent_hash);
  EXPECT_EQ(relay_->counters().bytes_copied.get(), 0u);
  EXPECT_EQ(relay_->counters().bytes_received_elsewhere.get(), 0u);
}

}  // namespace
}  // namespace vitrine::relay::testing
