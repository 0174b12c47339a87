// Bus creation, attach paths, header validation and the fd handoff.
#include "vitrine/ringbus/bus.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xxhash.h>

#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "test_bus.hpp"
#include "vitrine/ringbus/handoff.hpp"

namespace vitrine::ringbus {
namespace {

// A private copy of a freshly formatted region, to corrupt at will.
std::vector<std::byte> region_image(const BusConfig& config) {
  auto bus = Bus::create(config);
  EXPECT_TRUE(bus);
  return std::vector<std::byte>(bus->base(), bus->base() + bus->size());
}

RegionHeader* header_of(std::vector<std::byte>& image) {
  return reinterpret_cast<RegionHeader*>(image.data());
}

void reseal(std::vector<std::byte>& image) {
  RegionHeader* h = header_of(image);
  h->checksum = 0;
  h->checksum = XXH3_64bits(h, sizeof *h);
}

Errc validate_code(const std::vector<std::byte>& image) {
  auto r = validate_region(image.data(), image.size());
  EXPECT_FALSE(r.has_value());
  return r ? Errc::kInvalidArgument : r.error().code;
}

TEST(BusTest, shouldCreateSealedRegionWithRequestedGeometry) {
  BusConfig config;
  config.channels = {{12, 13}, {16, 20}};
  auto bus = Bus::create(config);
  ASSERT_TRUE(bus) << to_string(bus.error());
  EXPECT_EQ(bus->channel_count(), 2u);
  EXPECT_EQ(bus->channel(0).tx().capacity(), 1u << 12);
  EXPECT_EQ(bus->channel(0).rx().capacity(), 1u << 13);
  EXPECT_EQ(bus->channel(1).rx().capacity(), 1u << 20);
  EXPECT_EQ(::ftruncate(bus->fd(), 4096), -1) << "memfd must be sealed against shrinking";
  EXPECT_EQ(errno, EPERM);
}

TEST(BusTest, shouldRejectBadConfiguration) {
  BusConfig none;
  none.channels.clear();
  EXPECT_EQ(Bus::create(none).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(Bus::create(BusConfig::uniform(1, 11, 12)).error().code, Errc::kInvalidArgument);
  EXPECT_EQ(Bus::create(BusConfig::uniform(kMaxChannels + 1, 12, 12)).error().code, Errc::kInvalidArgument);
}

TEST(BusTest, shouldAcceptValidImage) {
  auto image = region_image(BusConfig::uniform(3, 12, 12));
  auto layout = validate_region(image.data(), image.size());
  ASSERT_TRUE(layout) << to_string(layout.error());
  EXPECT_EQ(layout->channels.size(), 3u);
}

TEST(BusTest, shouldRejectBadMagic) {
  auto image = region_image(BusConfig::uniform(2, 12, 12));
  header_of(image)->magic ^= 1;
  reseal(image);
  EXPECT_EQ(validate_code(image), Errc::kBadHeader);
}

TEST(BusTest, shouldRejectOtherLayoutVersion) {
  auto image = region_image(BusConfig::uniform(2, 12, 12));
  header_of(image)->layout_version = kLayoutVersion + 1;
  reseal(image);
  auto r = validate_region(image.data(), image.size());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("layout version"), std::string::npos);
}

TEST(BusTest, shouldRejectChecksumMismatch) {
  auto image = region_image(BusConfig::uniform(2, 12, 12));
  header_of(image)->channel_count = 1;  // not resealed
  auto r = validate_region(image.data(), image.size());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("checksum"), std::string::npos);
}

TEST(BusTest, shouldRejectRegionLargerThanMapping) {
  auto image = region_image(BusConfig::uniform(2, 12, 12));
  EXPECT_EQ(validate_region(image.data(), image.size() - 4096).error().code, Errc::kBadHeader);
  EXPECT_EQ(validate_region(image.data(), 100).error().code, Errc::kBadHeader);
}

TEST(BusTest, shouldRejectRingOutsideRegionOrOverlapping) {
  auto image = region_image(BusConfig::uniform(2, 12, 12));
  auto* table = reinterpret_cast<ChannelDesc*>(image.data() + header_of(image)->channel_table_offset);
  auto saved = table[1];
  table[1].g2h_offset = image.size() - 1024;  // runs past the end
  EXPECT_EQ(validate_code(image), Errc::kBadHeader);
  table[1] = saved;
  table[1].g2h_offset = table[0].h2g_offset;  // overlaps channel 0
  EXPECT_EQ(validate_code(image), Errc::kBadHeader);
  table[1] = saved;
  table[1].h2g_log2 = 40;
  EXPECT_EQ(validate_code(image), Errc::kBadHeader);
}

// Every offset, size and log2 in the header and table is guest-writable: an offset near 2^64
// must not wrap its end back into the region, and a log2 of 64 or more must not reach a shift.
// The channel table case used to pass (its end wrapped to 8) and copy from before the mapping.
TEST(BusTest, shouldRejectHeaderOffsetsThatWrapAroundTwoToThe64) {
  constexpr std::uint64_t kTop = ~std::uint64_t{0};
  auto image = region_image(BusConfig::uniform(2, 12, 12));
  const RegionHeader saved_header = *header_of(image);
  const auto expect_rejected = [&](const char* what, std::string_view message) {
    auto r = validate_region(image.data(), image.size());
    ASSERT_FALSE(r.has_value()) << what;
    EXPECT_EQ(r.error().code, Errc::kBadHeader) << what;
    EXPECT_NE(r.error().message.find(message), std::string::npos) << what << ": " << r.error().message;
  };

  // channel_table_offset + 2 * sizeof(ChannelDesc) wraps to 8 (8-aligned, past the header).
  for (const std::uint64_t table_offset : {kTop - 2 * sizeof(ChannelDesc) + 9, kTop - 7, std::uint64_t{1} << 63}) {
    header_of(image)->channel_table_offset = table_offset;
    reseal(image);
    expect_rejected("channel table offset", "channel table outside the region");
    *header_of(image) = saved_header;
  }

  auto* table = reinterpret_cast<ChannelDesc*>(image.data() + header_of(image)->channel_table_offset);
  const ChannelDesc saved = table[1];
  // ring offset + RingControl + 2^log2 wraps past 2^64 (offsets 128-aligned).
  for (const std::uint64_t offset : {kTop - 127, kTop - 4095, kTop - 128 * 64 + 1}) {
    table[1].h2g_offset = offset & ~std::uint64_t{127};
    expect_rejected("h2g offset", "ring outside the region");
    table[1] = saved;
    table[1].g2h_offset = offset & ~std::uint64_t{127};
    expect_rejected("g2h offset", "ring outside the region");
    table[1] = saved;
  }
  // A log2 that would shift 1 by 64 or more (UB), or make 2^log2 itself wrap.
  for (const std::uint32_t log2 : {31u, 63u, 64u, 65u, 127u, ~0u}) {
    table[1].h2g_log2 = log2;
    expect_rejected("h2g log2", "ring size 2^");
    table[1] = saved;
    table[1].g2h_log2 = log2;
    expect_rejected("g2h log2", "ring size 2^");
    table[1] = saved;
  }
  // A region_size near 2^64 is refused by the mapping's size before any sum uses it.
  header_of(image)->region_size = kTop & ~(kRegionAlign - 1);
  reseal(image);
  expect_rejected("region size", "exceeds the mapping");
  *header_of(image) = saved_header;
  EXPECT_TRUE(validate_region(image.data(), image.size()));
}

TEST(BusTest, shouldAttachFromPathAndMapping) {
  const auto path = std::filesystem::temp_directory_path() / ("vitrine-bus-test-" + std::to_string(::getpid()));
  auto host = Bus::create_at_path(path, BusConfig::uniform(2, 12, 12));
  ASSERT_TRUE(host) << to_string(host.error());
  auto guest = Bus::attach_path(path, Side::kGuest);
  ASSERT_TRUE(guest) << to_string(guest.error());
  ASSERT_TRUE(host->channel(1).try_send(5, std::as_bytes(std::span("ping", 4))).value());
  int seen = 0;
  ASSERT_TRUE(guest->channel(1).rx().read([&](const RecordView& v) { seen += v.type == 5; }));
  EXPECT_EQ(seen, 1);

  void* raw = ::mmap(nullptr, host->size(), PROT_READ | PROT_WRITE, MAP_SHARED, host->fd(), 0);
  ASSERT_NE(raw, MAP_FAILED);
  {
    auto mapped = Bus::attach_mapping(raw, host->size(), Side::kGuest);
    ASSERT_TRUE(mapped);
    EXPECT_EQ(mapped->fd(), -1);
    ASSERT_TRUE(mapped->channel(1).try_send(6, {}).value());
    auto p = host->channel(1).rx().peek();
    ASSERT_TRUE(p && *p);
    EXPECT_EQ(p->type, 6);
  }
  ::munmap(raw, host->size());
  std::filesystem::remove(path);
}

TEST(BusTest, shouldRefuseAttachingGarbage) {
  const auto path = std::filesystem::temp_directory_path() / ("vitrine-garbage-" + std::to_string(::getpid()));
  {
    FILE* f = std::fopen(path.c_str(), "w");
    std::vector<char> junk(8192, 'x');
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  auto r = Bus::attach_path(path, Side::kGuest);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kBadHeader);
  std::filesystem::remove(path);
  EXPECT_EQ(Bus::attach_path(path, Side::kGuest).error().code, Errc::kSystem);
}

TEST(BusTest, shouldHandOverRegionAndDoorbellsOverUnixSocket) {
  auto host = Bus::create(BusConfig::uniform(2, 12, 12));
  ASSERT_TRUE(host);
  auto bell = EventfdDoorbell::create();
  ASSERT_TRUE(bell);
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  const int bells[] = {bell->fd()};
  ASSERT_TRUE(send_handoff(a.get(), host->fd(), host->size(), bells));
  auto got = receive_handoff(b.get(), std::chrono::milliseconds(1000));
  ASSERT_TRUE(got) << to_string(got.error());
  ASSERT_EQ(got->doorbells.size(), 1u);
  EXPECT_EQ(got->region_size, host->size());
  auto guest = Bus::attach_fd(std::move(got->region), Side::kGuest);
  ASSERT_TRUE(guest);
  EventfdDoorbell guest_bell(std::move(got->doorbells[0]));
  host->channel(1).set_doorbells(nullptr, bell.operator->());
  guest->channel(1).set_doorbells(&guest_bell, nullptr);
  // The guest sleeps on its doorbell; the host's send rings it.
  std::thread waiter([&] {
    auto r = guest->channel(1).wait_readable(WaitPolicy::sleep_only(), std::chrono::seconds(10));
    EXPECT_TRUE(r && *r);
  });
  while (reinterpret_cast<RingControl*>(host->base() + host->layout().channels[1].h2g_offset)
             ->consumer_waiting == 0)
    std::this_thread::yield();
  ASSERT_TRUE(host->channel(1).try_send(3, {}).value());
  waiter.join();
  EXPECT_EQ(host->channel(1).tx().counters().doorbells_rung.get(), 1u);
}

TEST(BusTest, shouldRejectHandoffWithWrongVersionOrTimeout) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  EXPECT_EQ(receive_handoff(b.get(), std::chrono::milliseconds(10)).error().code, Errc::kTimeout);
  HandoffMessage msg{kHandoffMagic, kLayoutVersion + 7, 0, 0, 0, 0};
  ASSERT_EQ(::send(a.get(), &msg, sizeof msg, 0), static_cast<ssize_t>(sizeof msg));
  auto r = receive_handoff(b.get(), std::chrono::milliseconds(1000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kBadHeader);
  a.reset();
  EXPECT_EQ(receive_handoff(b.get(), std::chrono::milliseconds(1000)).error().code, Errc::kPeerClosed);
}

}  // namespace
}  // namespace vitrine::ringbus
