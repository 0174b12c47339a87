#include "vitrine/rdpmux/catalog_wire.hpp"
#include "vitrine/rdpmux/control_codec.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace vitrine::catalog {
namespace {

Catalog sample() {
  Catalog c;
  c.generation = 7;
  AppEntry a;
  a.id = "xterm";
  a.name = "XTerm";
  a.comment = "standard terminal emulator for the X window system";
  a.exec = {"xterm", "-e", "%U"};
  a.icon_name = "xterm";
  a.icon_png = std::vector<std::byte>(300, std::byte{0x5A});
  a.terminal = false;
  AppEntry b;
  b.id = "caf\xC3\xA9";
  b.name = "Caf\xC3\xA9";
  b.exec = {"/opt/cafe"};
  b.working_dir = "/tmp";
  b.terminal = true;
  c.apps = {a, b};
  return c;
}

TEST(CatalogWire, RoundTripsEveryField) {
  auto blob = encode_catalog(sample());
  ASSERT_TRUE(blob) << blob.error().message;
  auto back = decode_catalog(*blob);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->generation, 7u);
  EXPECT_EQ(back->apps, sample().apps);
}

TEST(CatalogWire, EncoderRefusesWhatTheDecoderWouldReject) {
  auto c = sample();
  c.apps[1].id = "xterm";
  EXPECT_FALSE(encode_catalog(c));
  c = sample();
  c.apps[0].name = "bad \xFF utf8";
  EXPECT_FALSE(encode_catalog(c));
  c = sample();
  c.apps[0].exec.clear();
  EXPECT_FALSE(encode_catalog(c));
  c = sample();
  c.apps[0].icon_png.resize(kMaxIconPngBytes + 1);
  EXPECT_EQ(encode_catalog(c).error().code, Errc::kTooLarge);
  c = sample();
  c.apps[0].id = std::string("a\nb");
  EXPECT_FALSE(encode_catalog(c));
}

TEST(CatalogWire, EveryTruncationAndEveryByteFlipIsHandled) {
  auto blob = *encode_catalog(sample());
  for (std::size_t n = 0; n < blob.size(); ++n) EXPECT_FALSE(decode_catalog(std::span(blob).first(n))) << n;
  // Flipping any byte either still decodes to a valid catalogue or fails cleanly.
  for (std::size_t i = 0; i < blob.size(); ++i) {
    auto copy = blob;
    copy[i] ^= std::byte{0xFF};
    auto r = decode_catalog(copy);
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

TEST(CatalogWire, HostileCountsDoNotAllocate) {
  auto blob = *encode_catalog(sample());
  // entry_count = 0xFFFFFFFF with a small body: rejected before reserving anything.
  blob[12] = blob[13] = blob[14] = blob[15] = std::byte{0xFF};
  auto r = decode_catalog(blob);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kTooLarge);
  // A count under the cap but more than the body can hold: also refused before reserving.
  blob[12] = std::byte{0x00};
  blob[13] = std::byte{0x10};
  blob[14] = blob[15] = std::byte{0x00};  // 4096
  r = decode_catalog(blob);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot fit"), std::string::npos);
}

// A guest that sends its catalogue one byte per fragment gets no more memory on the host than
// one that sends full fragments: the join keeps parts of 64 KiB.
TEST(CatalogWire, TinyFragmentsDoNotMultiplyTheHostsParts) {
  Catalog c = sample();
  c.apps[0].icon_png = std::vector<std::byte>(200 * 1024, std::byte{0x33});
  auto blob = *encode_catalog(c);
  auto fragments = fragment_catalog(blob, c.generation, kFragmentHeaderSize + 1);
  ASSERT_EQ(fragments.size(), blob.size());
  CatalogReassembler r;
  std::optional<CatalogReassembler::Blob> joined;
  for (const auto& f : fragments) {
    auto j = r.join(f);
    ASSERT_TRUE(j) << j.error().message;
    if (*j) joined = std::move(**j);
  }
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->parts.size(), (blob.size() + 65535) / 65536);
  EXPECT_EQ(joined->bytes(), blob);
}

// Catalogue amplification: 32 MiB of minimal entries would be about a million applications on
// the host. kMaxApps is the most either side accepts; the host refuses more before decoding any.
TEST(CatalogWire, AtMostKMaxAppsApplications) {
  Catalog c;
  for (std::size_t i = 0; i < kMaxApps; ++i) {
    AppEntry a;
    a.id = "a" + std::to_string(i);
    a.name = a.id;
    a.exec = {"x"};
    c.apps.push_back(std::move(a));
  }
  auto blob = encode_catalog(c);
  ASSERT_TRUE(blob) << blob.error().message;
  auto decoded = decode_catalog(*blob);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->apps.size(), kMaxApps);
  c.apps.push_back(c.apps.back());
  c.apps.back().id = "one-too-many";
  auto refused = encode_catalog(c);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kTooLarge);
  // A hostile guest writes the count itself: kMaxApps + 1 is refused before any entry is read.
  const std::uint32_t over = kMaxApps + 1;
  std::memcpy(blob->data() + 12, &over, sizeof over);
  auto hostile = decode_catalog(*blob);
  ASSERT_FALSE(hostile);
  EXPECT_EQ(hostile.error().code, Errc::kTooLarge);
}

// The host joins fragments on its UI thread and decodes elsewhere: join() gives the blob,
// decode_blob() the catalogue, the same as add().
TEST(CatalogWire, JoinThenDecodeEqualsAdd) {
  auto blob = *encode_catalog(sample());
  auto fragments = fragment_catalog(blob, 7, 200);
  ASSERT_GT(fragments.size(), 1u);
  CatalogReassembler joiner, adder;
  std::optional<CatalogReassembler::Blob> joined;
  std::optional<Catalog> added;
  for (const auto& f : fragments) {
    auto j = joiner.join(f);
    ASSERT_TRUE(j) << j.error().message;
    if (*j) joined = std::move(**j);
    auto a = adder.add(f);
    ASSERT_TRUE(a) << a.error().message;
    if (*a) added = std::move(**a);
  }
  ASSERT_TRUE(joined && added);
  EXPECT_EQ(joined->generation, 7u);
  EXPECT_EQ(joined->bytes(), blob);
  EXPECT_EQ(joined->parts.size(), 1u);  // parts of 64 KiB, each reserved once: never re-copied
  auto decoded = CatalogReassembler::decode_blob(*joined);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->apps, added->apps);
}

TEST(CatalogWire, FragmentsReassembleInOrderAndNewGenerationsWin) {
  auto blob = *encode_catalog(sample());
  auto frags = fragment_catalog(blob, 7, 64);
  ASSERT_GT(frags.size(), 5u);
  CatalogReassembler r;
  for (std::size_t i = 0; i + 1 < frags.size(); ++i) {
    auto step = r.add(frags[i]);
    ASSERT_TRUE(step) << step.error().message;
    EXPECT_FALSE(step->has_value());
  }
  auto done = r.add(frags.back());
  ASSERT_TRUE(done && done->has_value());
  EXPECT_EQ((*done)->apps.size(), 2u);

  // An interrupted generation is dropped when a new one starts.
  auto c2 = sample();
  c2.generation = 8;
  c2.apps.pop_back();
  auto frags2 = fragment_catalog(*encode_catalog(c2), 8, 100);
  ASSERT_TRUE(r.add(frags[0]));
  ASSERT_TRUE(r.add(frags[1]));
  std::optional<Catalog> last;
  for (const auto& f : frags2) {
    auto s = r.add(f);
    ASSERT_TRUE(s) << s.error().message;
    if (s->has_value()) last = std::move(**s);
  }
  ASSERT_TRUE(last);
  EXPECT_EQ(last->generation, 8u);
  EXPECT_EQ(last->apps.size(), 1u);
}

TEST(CatalogWire, FragmentsAreValidControlRecordsOfAtMostTheHostsLimit) {
  Catalog c = sample();
  c.apps[0].icon_png.assign(kMaxIconPngBytes, std::byte{0x5A});  // a catalogue of several records
  auto blob = encode_catalog(c);
  ASSERT_TRUE(blob);
  auto frags = fragment_catalog(*blob, c.generation, 1u << 30);  // asks for more than allowed
  ASSERT_GT(frags.size(), 3u);
  CatalogReassembler r;
  std::optional<Catalog> done;
  for (const auto& f : frags) {
    EXPECT_LE(f.size(), kMaxFragmentRecordBytes);
    auto m = rdpmux::make_catalog_fragment(f);
    ASSERT_TRUE(m) << m.error().message;
    auto step = r.add(m->record);
    ASSERT_TRUE(step) << step.error().message;
    if (step->has_value()) done = std::move(**step);
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(done->generation, c.generation);
  EXPECT_EQ(done->apps, c.apps);
  EXPECT_TRUE(fragment_catalog({}, 1, 100).empty());
}

TEST(CatalogWire, OutOfOrderOrInconsistentFragmentsAreErrors) {
  auto frags = fragment_catalog(*encode_catalog(sample()), 7, 64);
  CatalogReassembler r;
  EXPECT_FALSE(r.add(frags[1]));  // no start
  ASSERT_TRUE(r.add(frags[0]));
  EXPECT_FALSE(r.add(frags[2]));  // gap
  std::vector<std::byte> tiny(8);
  EXPECT_FALSE(r.add(tiny));
  auto lying = frags[0];
  lying[16] = std::byte{0xFF};  // length field disagrees with the payload
  EXPECT_FALSE(r.add(lying));
  // Generation inside the blob differs from the fragments' generation.
  auto mismatched = fragment_catalog(*encode_catalog(sample()), 9, 1 << 20);
  EXPECT_FALSE(r.add(mismatched[0]));
}

TEST(CatalogWire, RandomInputNeverCrashesTheDecoders) {
  std::mt19937 rng(1234);
  auto good = *encode_catalog(sample());
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::byte> buf(rng() % 400);
    for (auto& x : buf) x = static_cast<std::byte>(rng());
    if (i % 2 && buf.size() >= 32) std::copy(good.begin(), good.begin() + 32, buf.begin());  // valid header
    (void)decode_catalog(buf);
    CatalogReassembler r;
    (void)r.add(buf);
  }
  SUCCEED();
}

TEST(CatalogWire, Utf8Validation) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("\xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(valid_utf8("\xE2\x82"));          // truncated
}

}  // namespace
}  // namespace vitrine::catalog
