#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "vitrine/rdpmux/control_codec.hpp"

namespace vitrine::rdpmux {
namespace {

template <typename M>
M roundtrip(const M& in) {
  const EncodedMessage e = encode_control(in);
  EXPECT_EQ(e.type, message_type<M>());
  EXPECT_EQ(e.size, sizeof(M));
  auto d = decode_control(e.type, e.payload());
  EXPECT_TRUE(d.has_value()) << (d ? "" : to_string(d.error()));
  return std::get<M>(*d);
}

TEST(ControlCodec, HelloRoundTripsAndNegotiates) {
  const HelloMsg h = roundtrip(make_hello(kKnownFeatures, 9));
  EXPECT_EQ(h.magic, kControlMagic);
  EXPECT_EQ(h.max_channels, 9u);
  EXPECT_EQ(choose_version(1, 3, 2, 5), 3);
  EXPECT_EQ(choose_version(1, 1, 2, 5), 0);
  const HelloReplyMsg r = roundtrip(make_hello_reply(1, kFeatureStats, 1, 42));
  EXPECT_EQ(r.relay_pid, 42u);
}

TEST(ControlCodec, OpenTcpAndUnixRoundTrip) {
  auto t = make_open_tcp(7, 3, 3389, kOpenFramed);
  ASSERT_TRUE(t.has_value());
  const OpenMsg ot = roundtrip(*t);
  EXPECT_EQ(ot.port, 3389);
  EXPECT_EQ(ot.flags, kOpenFramed);
  auto u = make_open_unix(8, 4, "/run/vitrine/rdp.sock", 0);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(path_of(roundtrip(*u)), "/run/vitrine/rdp.sock");
}

TEST(ControlCodec, BuildersRejectBadArguments) {
  EXPECT_EQ(make_open_tcp(1, 1, 0, 0).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(make_open_tcp(1, 0, 22, 0).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(make_open_unix(1, 1, std::string(108, 'a'), 0).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(make_open_unix(1, 1, "", 0).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(make_open_unix(1, 1, std::string_view("a\0b", 3), 0).error().code, Errc::kInvalidArgument);
}

TEST(ControlCodec, TextsAreTruncatedNeverOverflow) {
  const std::string long_text(500, 'x');
  const OpenFailedMsg f = roundtrip(make_open_failed(1, 2, 111, long_text));
  EXPECT_EQ(text_of(f).size(), sizeof f.text);
  const ClosedMsg c = roundtrip(make_closed(2, 104, 10, 20, "Connection reset by peer"));
  EXPECT_EQ(text_of(c), "Connection reset by peer");
  EXPECT_EQ(c.bytes_from_host, 20u);
  // An embedded NUL would make the receiver reject the message: the builder replaces it.
  const ErrorReplyMsg e = roundtrip(make_error_reply(3, kErrMalformed, std::string_view("a\0b", 3)));
  EXPECT_EQ(text_of(e), "a?b");
}

TEST(ControlCodec, RejectsWrongSizesAndUnknownTypes) {
  const EncodedMessage e = encode_control(make_hello(0, 2));
  EXPECT_EQ(decode_control(kMsgHello, e.payload().first(e.size - 1)).error().code, Errc::kMalformed);
  std::vector<std::byte> longer(e.payload().begin(), e.payload().end());
  longer.push_back(std::byte{0});
  EXPECT_EQ(decode_control(kMsgHello, longer).error().code, Errc::kMalformed);
  EXPECT_EQ(decode_control(0, e.payload()).error().code, Errc::kUnknownType);
  EXPECT_EQ(decode_control(kMsgLast + 1, e.payload()).error().code, Errc::kUnknownType);
  EXPECT_EQ(decode_control(kMsgPing, {}).error().code, Errc::kMalformed);
}

TEST(ControlCodec, RejectsBadFields) {
  HelloMsg h = make_hello(0, 2);
  h.magic ^= 1;
  EXPECT_FALSE(decode_control(kMsgHello, encode_control(h).payload()));
  h = make_hello(0, 2);
  h.version_min = 3;
  h.version_max = 2;
  EXPECT_FALSE(decode_control(kMsgHello, encode_control(h).payload()));
  OpenMsg o = *make_open_unix(1, 1, "/x", 0);
  o.path_length = 200;
  EXPECT_FALSE(decode_control(kMsgOpen, encode_control(o).payload()));
  o = *make_open_tcp(1, 1, 80, 0);
  o.target_kind = 9;
  EXPECT_FALSE(decode_control(kMsgOpen, encode_control(o).payload()));
  o = *make_open_tcp(1, 1, 80, 0);
  o.flags = 0x80;
  EXPECT_FALSE(decode_control(kMsgOpen, encode_control(o).payload()));
  OpenFailedMsg f = make_open_failed(1, 1, 2, "x");
  f.error = -4;
  EXPECT_FALSE(decode_control(kMsgOpenFailed, encode_control(f).payload()));
  f = make_open_failed(1, 1, 2, "x");
  f.text_length = 1000;
  EXPECT_FALSE(decode_control(kMsgOpenFailed, encode_control(f).payload()));
}

TEST(ControlCodec, DirectionTable) {
  EXPECT_EQ(message_sender(kMsgOpen), Sender::kHost);
  EXPECT_EQ(message_sender(kMsgClosed), Sender::kGuest);
  EXPECT_EQ(message_sender(kMsgPing), Sender::kEither);
}

std::vector<std::byte> fragment_record(std::uint32_t generation, std::uint32_t offset, std::uint32_t total,
                                       std::uint32_t length, std::size_t data_bytes) {
  CatalogFragmentHeader h{kCatalogFragmentMagic, generation, offset, total, length, 0};
  std::vector<std::byte> out(sizeof h + data_bytes, std::byte{0x42});
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

TEST(ControlCodec, CatalogFragmentIsVariableLengthAndRoundTrips) {
  const auto rec = fragment_record(3, 100, 1000, 500, 500);
  auto d = decode_control(kMsgCatalogFragment, rec);
  ASSERT_TRUE(d) << to_string(d.error());
  const auto& f = std::get<CatalogFragmentMsg>(*d);
  EXPECT_EQ(f.header.generation, 3u);
  EXPECT_EQ(f.data().size(), 500u);
  const EncodedMessage e = encode_control(*d);
  EXPECT_EQ(e.type, kMsgCatalogFragment);
  ASSERT_EQ(e.size, rec.size());
  EXPECT_EQ(std::memcmp(e.payload().data(), rec.data(), rec.size()), 0);
  EXPECT_EQ(message_sender(kMsgCatalogFragment), Sender::kGuest);
  EXPECT_EQ(message_name(kMsgCatalogFragment), "CatalogFragment");

  // The largest record the host takes, and one byte more.
  const std::uint32_t max_data = kMaxCatalogFragmentBytes - sizeof(CatalogFragmentHeader);
  EXPECT_TRUE(decode_control(kMsgCatalogFragment, fragment_record(1, 0, max_data, max_data, max_data)));
  EXPECT_FALSE(decode_control(kMsgCatalogFragment, fragment_record(1, 0, max_data + 1, max_data + 1, max_data + 1)));
  EXPECT_TRUE(make_catalog_fragment(rec));
  EXPECT_EQ(make_catalog_fragment(std::span(rec).first(10)).error().code, Errc::kInvalidArgument);
}

TEST(ControlCodec, HostileCatalogFragmentsAreRejected) {
  auto bad = [](std::vector<std::byte> rec) { return !decode_control(kMsgCatalogFragment, rec).has_value(); };
  EXPECT_TRUE(bad({}));
  EXPECT_TRUE(bad(fragment_record(1, 0, 10, 0, 0)));           // header only
  EXPECT_TRUE(bad(fragment_record(1, 0, 10, 11, 10)));         // length says more than follows
  EXPECT_TRUE(bad(fragment_record(1, 0, 10, 5, 10)));          // ... or less
  EXPECT_TRUE(bad(fragment_record(1, 8, 10, 5, 5)));           // ends beyond total
  EXPECT_TRUE(bad(fragment_record(1, 0xFFFFFFF0u, 0xFFFFFFFFu, 32, 32)));  // offset + length wraps
  EXPECT_TRUE(bad(fragment_record(1, 0, 0, 5, 5)));            // total 0
  EXPECT_TRUE(bad(fragment_record(1, 0, kMaxCatalogBytes + 1, 5, 5)));  // huge total
  auto magic = fragment_record(1, 0, 5, 5, 5);
  magic[0] = std::byte{0};
  EXPECT_TRUE(bad(magic));
  auto reserved = fragment_record(1, 0, 5, 5, 5);
  reserved[20] = std::byte{1};
  EXPECT_TRUE(bad(reserved));
}

TEST(ControlCodec, CatalogRequestIsAHostMessage) {
  const CatalogRequestMsg r = roundtrip(CatalogRequestMsg{0});
  EXPECT_EQ(r.reserved, 0u);
  EXPECT_EQ(message_sender(kMsgCatalogRequest), Sender::kHost);
  EXPECT_FALSE(decode_control(kMsgCatalogRequest, {}));
  EXPECT_EQ(decode_control(34, std::vector<std::byte>(8)).error().code, Errc::kUnknownType);
}

TEST(ControlCodec, EndRecord) {
  auto e = encode_end(104);
  EXPECT_EQ(*decode_end(e), 104);
  EXPECT_FALSE(decode_end(std::span<const std::byte>(e).first(4)));
}

TEST(ControlCodec, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  std::vector<std::byte> buf(160);
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    // Core types, one unknown on each side, and the catalogue's two.
    auto type = static_cast<std::uint16_t>(rng() % (kMsgLast + 5));
    if (type == kMsgLast + 3) type = kMsgCatalogFragment;
    if (type == kMsgLast + 4) type = kMsgCatalogRequest;
    const std::size_t size = rng() % buf.size();
    for (auto& b : buf) b = static_cast<std::byte>(rng());
    auto m = decode_control(type, std::span(buf).first(size));
    if (m) {
      ++accepted;
      // Anything accepted re-encodes to the same bytes.
      const EncodedMessage e = encode_control(*m);
      ASSERT_EQ(e.size, size);
      ASSERT_EQ(std::memcmp(e.payload().data(), buf.data(), size), 0);
    }
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace vitrine::rdpmux
