// RailExecTap: Client Execute orders read from the raw rail channel, because FreeRDP 2.11's
// server puts every string of the order into the program (rail_exec_tap.hpp).
#include <gtest/gtest.h>

#include <freerdp/svc.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rdp/rail_exec_tap.hpp"

namespace vitrine::appserver::rdp {
namespace {

void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}

std::vector<std::uint8_t> utf16(const std::u16string& s) {
  std::vector<std::uint8_t> b;
  for (char16_t c : s) put16(b, c);
  return b;
}

// MS-RDPERP 2.2.2.3.1 as FreeRDP's client writes it: header, flags, three lengths, strings.
std::vector<std::uint8_t> exec_pdu(std::uint16_t flags, const std::u16string& exe, const std::u16string& work,
                                   const std::u16string& args) {
  const auto e = utf16(exe), w = utf16(work), a = utf16(args);
  std::vector<std::uint8_t> pdu;
  put16(pdu, 0x0001);
  put16(pdu, static_cast<std::uint16_t>(4 + 8 + e.size() + w.size() + a.size()));
  put16(pdu, flags);
  put16(pdu, static_cast<std::uint16_t>(e.size()));
  put16(pdu, static_cast<std::uint16_t>(w.size()));
  put16(pdu, static_cast<std::uint16_t>(a.size()));
  for (const auto* part : {&e, &w, &a}) pdu.insert(pdu.end(), part->begin(), part->end());
  return pdu;
}

RailExec only(RailExecTap& tap) {
  auto got = tap.take();
  EXPECT_EQ(got.size(), 1u);
  return got.empty() ? RailExec{} : got.front();
}

TEST(RailExecTap, ProgramWorkingDirectoryAndArgumentsAsSent) {
  RailExecTap tap;
  const auto pdu = exec_pdu(0, u"||xterm", u"/home/u/my dir", u"-title 'h\u00e9llo w\u00f6rld \U0001F600' -e true");
  tap.on_chunk(pdu, CHANNEL_FLAG_FIRST | CHANNEL_FLAG_LAST, pdu.size());
  const RailExec sent = only(tap);
  EXPECT_EQ(sent.program, "||xterm");
  EXPECT_EQ(sent.working_dir, "/home/u/my dir");
  EXPECT_EQ(sent.arguments, "-title 'h\u00e9llo w\u00f6rld \U0001F600' -e true");
  EXPECT_TRUE(tap.take().empty());
}

TEST(RailExecTap, TheNulFreeRdpsClientAppendsEndsTheString) {
  RailExecTap tap;
  const auto pdu = exec_pdu(0x0001, std::u16string(u"/usr/bin/xeyes") + u'\0', u"", u"");
  tap.on_chunk(pdu, CHANNEL_FLAG_FIRST | CHANNEL_FLAG_LAST, pdu.size());
  const RailExec sent = only(tap);
  EXPECT_EQ(sent.program, "/usr/bin/xeyes");
  EXPECT_EQ(sent.flags, 0x0001);
}

TEST(RailExecTap, APduInSeveralChunksIsJoined) {
  RailExecTap tap;
  std::u16string long_args(3000, u'x');  // 6000 bytes: four chunks of 1600
  const auto pdu = exec_pdu(0, u"/usr/bin/printf", u"", long_args);
  for (std::size_t at = 0; at < pdu.size(); at += 1600) {
    const std::size_t n = std::min<std::size_t>(1600, pdu.size() - at);
    const std::uint32_t flags = (at == 0 ? CHANNEL_FLAG_FIRST : 0) | (at + n == pdu.size() ? CHANNEL_FLAG_LAST : 0);
    EXPECT_FALSE(tap.on_chunk(std::span(pdu).subspan(at, n), flags, pdu.size())) << "kept from FreeRDP";
  }
  const RailExec sent = only(tap);
  EXPECT_EQ(sent.program, "/usr/bin/printf");
  EXPECT_EQ(sent.arguments, std::string(3000, 'x'));
}

TEST(RailExecTap, OtherOrdersAreIgnoredAndMalformedExecsCounted) {
  RailExecTap tap;
  std::vector<std::uint8_t> activate{0x02, 0x00, 0x09, 0x00, 1, 0, 0, 0, 1};
  EXPECT_TRUE(tap.on_chunk(activate, CHANNEL_FLAG_FIRST | CHANNEL_FLAG_LAST, activate.size())) << "FreeRDP handles it";
  auto odd = exec_pdu(0, u"a", u"", u"b");
  odd[6] = 3;  // exeOrFileLength odd
  EXPECT_FALSE(tap.on_pdu(odd));
  auto beyond = exec_pdu(0, u"a", u"", u"b");
  beyond[10] = 0xfe;  // argumentsLength past the PDU
  EXPECT_FALSE(tap.on_pdu(beyond));
  EXPECT_FALSE(tap.on_pdu(std::vector<std::uint8_t>{0x01, 0x00, 0x06, 0x00, 0, 0}));
  auto too_long = exec_pdu(0, std::u16string(261, u'a'), u"", u"");  // 522 bytes > 520
  EXPECT_FALSE(tap.on_pdu(too_long));
  EXPECT_EQ(tap.malformed(), 4u);
  EXPECT_TRUE(tap.take().empty());
  // A chunked PDU larger than any exec order is skipped whole, and the next one is read.
  std::vector<std::uint8_t> junk(20000, 0x01);
  EXPECT_TRUE(tap.on_chunk(std::span(junk).first(1600), CHANNEL_FLAG_FIRST, junk.size()));
  EXPECT_TRUE(tap.on_chunk(std::span(junk).last(1600), CHANNEL_FLAG_LAST, junk.size()));
  // An exec order larger than any valid one is dropped whole and counted.
  std::vector<std::uint8_t> huge(20000, 0x00);
  huge[0] = 0x01;
  EXPECT_FALSE(tap.on_chunk(std::span(huge).first(1600), CHANNEL_FLAG_FIRST, huge.size()));
  EXPECT_FALSE(tap.on_chunk(std::span(huge).last(1600), CHANNEL_FLAG_LAST, huge.size()));
  EXPECT_EQ(tap.malformed(), 5u);
  const auto next = exec_pdu(0, u"||xterm", u"", u"");
  tap.on_chunk(next, CHANNEL_FLAG_FIRST | CHANNEL_FLAG_LAST, next.size());
  EXPECT_EQ(only(tap).program, "||xterm");
}

TEST(RailExecTap, AFloodingClientIsBoundedPerTurn) {
  RailExecTap tap;
  const auto pdu = exec_pdu(0, u"||xeyes", u"", u"");
  for (int i = 0; i < 100; ++i) tap.on_chunk(pdu, CHANNEL_FLAG_FIRST | CHANNEL_FLAG_LAST, pdu.size());
  EXPECT_EQ(tap.take().size(), RailExecTap::kMaxQueued);
  EXPECT_EQ(tap.dropped(), 100u - RailExecTap::kMaxQueued);
}

}  // namespace
}  // namespace vitrine::appserver::rdp
