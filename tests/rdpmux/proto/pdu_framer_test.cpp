#include <gtest/gtest.h>

#include <random>

#include "rdp_stream.hpp"
#include "vitrine/rdpmux/pdu_framer.hpp"

namespace vitrine::rdpmux {
namespace {

using testing::bytes;
using testing::ExpectedPdu;
using testing::Stream;

// Feeds `data` in chunks chosen by `next_chunk` and collects every completed PDU.
template <typename Chunker>
Result<std::vector<ExpectedPdu>> frame(std::span<const std::byte> data, Chunker&& next_chunk) {
  PduFramer f;
  std::vector<ExpectedPdu> out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t chunk = std::min(next_chunk(), data.size() - pos);
    std::size_t used = 0;
    while (used < chunk) {
      auto r = f.feed(data.subspan(pos + used, chunk - used));
      if (!r) return std::unexpected(r.error());
      used += r->consumed;
      if (r->pdu_complete) out.push_back({r->kind, r->length, f.offset()});
      EXPECT_GT(r->consumed, 0u);
    }
    pos += chunk;
  }
  EXPECT_TRUE(f.at_boundary());
  return out;
}

void expect_same(const std::vector<ExpectedPdu>& got, const std::vector<ExpectedPdu>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].kind, want[i].kind) << "PDU " << i;
    ASSERT_EQ(got[i].length, want[i].length) << "PDU " << i;
    ASSERT_EQ(got[i].end, want[i].end) << "PDU " << i;
  }
}

TEST(PduFramer, SpecConnectionRequestAndConfirm) {
  // MS-RDPBCGR 4.1.1 and 4.1.2, byte for byte.
  for (const auto& pdu : {testing::x224_connection_request(), testing::x224_connection_confirm()}) {
    PduFramer f;
    auto r = f.feed(pdu);
    ASSERT_TRUE(r.has_value()) << to_string(r.error());
    EXPECT_TRUE(r->pdu_complete);
    EXPECT_EQ(r->kind, PduKind::kTpkt);
    EXPECT_EQ(r->length, pdu.size());
    EXPECT_EQ(r->consumed, pdu.size());
  }
}

TEST(PduFramer, FastPathOneAndTwoByteLengths) {
  // 2.2.9.1.2: length1 = 0x06 -> 6 bytes; 0x81 0x00 -> 256 bytes.
  std::vector<std::byte> one = bytes({0x00, 0x06, 0x01, 0x02, 0x03, 0x04});
  PduFramer f;
  auto r = f.feed(one);
  ASSERT_TRUE(r && r->pdu_complete);
  EXPECT_EQ(r->kind, PduKind::kFastPath);
  EXPECT_EQ(r->length, 6u);
  std::vector<std::byte> two(256);
  two[0] = std::byte{0x80};  // FASTPATH_OUTPUT_ENCRYPTED flag, action 0
  two[1] = std::byte{0x81};
  two[2] = std::byte{0x00};
  r = f.feed(two);
  ASSERT_TRUE(r && r->pdu_complete);
  EXPECT_EQ(r->length, 256u);
  // The largest 2-byte length, 0x7fff.
  std::vector<std::byte> max(0x7fff);
  max[1] = std::byte{0xff};
  max[2] = std::byte{0xff};
  r = f.feed(max);
  ASSERT_TRUE(r && r->pdu_complete);
  EXPECT_EQ(r->length, 0x7fffu);
}

TEST(PduFramer, StopsAtEachPduEnd) {
  Stream s = testing::session_stream(1, 50);
  PduFramer f;
  std::span<const std::byte> rest(s.data);
  for (const auto& want : s.pdus) {
    auto r = f.feed(rest);
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->pdu_complete);
    EXPECT_EQ(r->consumed, want.length);
    EXPECT_EQ(f.offset(), want.end);
    rest = rest.subspan(r->consumed);
  }
  EXPECT_TRUE(rest.empty());
}

TEST(PduFramer, WantedNeverCrossesThePduEnd) {
  const auto pdu = testing::x224_connection_request();
  PduFramer f;
  EXPECT_EQ(f.wanted(), 1u);
  ASSERT_TRUE(f.feed(std::span(pdu).first(1)));
  EXPECT_EQ(f.wanted(), 3u);  // the rest of the TPKT header
  ASSERT_TRUE(f.feed(std::span(pdu).subspan(1, 3)));
  EXPECT_EQ(f.wanted(), pdu.size() - 4);
  auto r = f.feed(std::span(pdu).subspan(4));
  ASSERT_TRUE(r && r->pdu_complete);
  EXPECT_EQ(f.wanted(), 1u);
}

TEST(PduFramer, TlsAfterX224) {
  Stream s = testing::tls_stream(3, 40);
  auto got = frame(s.data, [] { return std::size_t{1} << 20; });
  ASSERT_TRUE(got.has_value()) << to_string(got.error());
  expect_same(*got, s.pdus);
}

TEST(PduFramer, AnySplitGivesTheSamePdus) {
  // Property: however the stream is cut into receives, the same PDUs come out.
  for (std::uint32_t seed = 0; seed < 40; ++seed) {
    Stream s = seed % 2 ? testing::session_stream(seed, 200) : testing::tls_stream(seed, 100);
    std::mt19937 rng(seed * 7919u + 1);
    const std::uint32_t style = seed % 4;
    auto chunker = [&]() -> std::size_t {
      switch (style) {
        case 0: return 1;                         // byte by byte
        case 1: return 1 + rng() % 7;             // tiny pieces, splitting headers
        case 2: return 1 + rng() % 5000;          // mixed
        default: return 1 + rng() % 70000;        // large receives
      }
    };
    auto got = frame(s.data, chunker);
    ASSERT_TRUE(got.has_value()) << "seed " << seed << ": " << to_string(got.error());
    expect_same(*got, s.pdus);
  }
}

Error frame_error(std::vector<std::byte> data) {
  auto r = frame(data, [] { return std::size_t{3}; });
  EXPECT_FALSE(r.has_value());
  return r ? Error{Errc::kMalformed, 0, "no error"} : r.error();
}

TEST(PduFramer, RejectsImpossibleFramingWithOffsets) {
  // A valid 19-byte confirm, then an unknown first byte at offset 19.
  auto d = testing::x224_connection_confirm();
  d.push_back(std::byte{0x01});
  Error e = frame_error(d);
  EXPECT_EQ(e.code, Errc::kFraming);
  EXPECT_NE(e.message.find("offset 19"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("0x01"), std::string::npos) << e.message;

  EXPECT_EQ(frame_error(bytes({0x03, 0x00, 0x00, 0x03})).code, Errc::kFraming);   // TPKT length 3
  EXPECT_EQ(frame_error(bytes({0x03, 0x01, 0x00, 0x10})).code, Errc::kFraming);   // reserved != 0
  EXPECT_EQ(frame_error(bytes({0x00, 0x02})).code, Errc::kFraming);               // fast-path 2
  EXPECT_EQ(frame_error(bytes({0x00, 0x80, 0x03})).code, Errc::kFraming);         // 2-byte form, 3
  EXPECT_EQ(frame_error(bytes({0x16, 0x03, 0x03, 0x00, 0x00})).code, Errc::kFraming);  // TLS 0
  EXPECT_EQ(frame_error(bytes({0x16, 0x02, 0x00, 0x00, 0x10})).code, Errc::kFraming);  // SSL 2
  EXPECT_EQ(frame_error(bytes({0x17, 0x03, 0x03, 0x48, 0x01})).code, Errc::kFraming);  // too long
  // After TLS started, a plaintext TPKT is a framing error.
  std::mt19937 rng(1);
  auto tls = testing::tls_record(22, 10, rng);
  tls.push_back(std::byte{0x03});
  e = frame_error(tls);
  EXPECT_NE(e.message.find("offset 15"), std::string::npos) << e.message;
}

TEST(PduFramer, StaysFailedAfterAnError) {
  PduFramer f;
  auto bad = bytes({0xff});
  EXPECT_FALSE(f.feed(bad));
  EXPECT_TRUE(f.failed());
  auto good = testing::x224_connection_confirm();
  EXPECT_FALSE(f.feed(good));
  f.reset();
  EXPECT_TRUE(f.feed(good));
}

TEST(PduFramer, RandomBytesNeverCrash) {
  std::mt19937 rng(5);
  std::vector<std::byte> junk(4096);
  for (int round = 0; round < 2000; ++round) {
    for (auto& b : junk) b = static_cast<std::byte>(rng());
    PduFramer f;
    std::span<const std::byte> rest(junk);
    while (!rest.empty()) {
      auto r = f.feed(rest.first(std::min<std::size_t>(rest.size(), 1 + rng() % 300)));
      if (!r) break;
      ASSERT_LE(r->consumed, rest.size());
      rest = rest.subspan(r->consumed);
    }
  }
}

}  // namespace
}  // namespace vitrine::rdpmux
