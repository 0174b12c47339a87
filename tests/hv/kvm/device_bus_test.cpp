// DeviceBus: overlap rejection, dispatch by offset, unknown accesses answered and counted.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "vitrine/hv/kvm/device_bus.hpp"

namespace kvm = vitrine::hv::kvm;

namespace {
class Recorder final : public kvm::BusDevice {
 public:
  explicit Recorder(std::string n) : name_(std::move(n)) {}
  void read(std::uint64_t offset, std::span<std::uint8_t> data) override {
    for (auto& b : data) b = static_cast<std::uint8_t>(offset);
    reads.push_back(offset);
  }
  void write(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    writes.emplace_back(offset, data[0]);
  }
  std::string name() const override { return name_; }
  std::vector<std::uint64_t> reads;
  std::vector<std::pair<std::uint64_t, std::uint8_t>> writes;

 private:
  std::string name_;
};
}  // namespace

TEST(DeviceBus, RejectsOverlappingRangesNamingBoth) {
  kvm::DeviceBus bus("pio");
  ASSERT_TRUE(bus.insert(std::make_shared<Recorder>("uart"), 0x3f8, 8));
  auto inside = bus.insert(std::make_shared<Recorder>("other"), 0x3fa, 2);
  ASSERT_FALSE(inside);
  EXPECT_NE(inside.error().message.find("uart"), std::string::npos) << inside.error().message;
  EXPECT_NE(inside.error().message.find("other"), std::string::npos);
  EXPECT_FALSE(bus.insert(std::make_shared<Recorder>("below"), 0x3f0, 9));   // tail overlaps
  EXPECT_FALSE(bus.insert(std::make_shared<Recorder>("cover"), 0x300, 0x200));  // covers it
  EXPECT_FALSE(bus.insert(std::make_shared<Recorder>("same"), 0x3f8, 8));
  EXPECT_TRUE(bus.insert(std::make_shared<Recorder>("before"), 0x3f0, 8));  // adjacent is fine
  EXPECT_TRUE(bus.insert(std::make_shared<Recorder>("after"), 0x400, 1));
  EXPECT_FALSE(bus.insert(std::make_shared<Recorder>("empty"), 0x500, 0));
  EXPECT_FALSE(bus.insert(std::make_shared<Recorder>("wrap"), ~0ull - 1, 4));
}

TEST(DeviceBus, DispatchesWithOffsets) {
  kvm::DeviceBus bus("mmio");
  auto dev = std::make_shared<Recorder>("dev");
  ASSERT_TRUE(bus.insert(dev, 0x1000, 0x100));
  std::uint8_t buf[4] = {};
  EXPECT_TRUE(bus.read(0x1010, buf));
  EXPECT_EQ(buf[0], 0x10);
  const std::uint8_t v[1] = {7};
  EXPECT_TRUE(bus.write(0x10ff, v));
  ASSERT_EQ(dev->writes.size(), 1u);
  EXPECT_EQ(dev->writes[0].first, 0xffu);
  EXPECT_EQ(bus.unknown_accesses(), 0u);
}

TEST(DeviceBus, UnknownAndStraddlingAccessesAreAnsweredAndCounted) {
  kvm::DeviceBus bus("pio");
  auto dev = std::make_shared<Recorder>("dev");
  ASSERT_TRUE(bus.insert(dev, 0x60, 1));
  std::uint8_t buf[4] = {1, 2, 3, 4};
  EXPECT_FALSE(bus.read(0x61, buf));
  EXPECT_EQ(buf[0], 0xff);
  EXPECT_EQ(buf[3], 0xff);
  EXPECT_FALSE(bus.read(0x60, buf));  // 4 bytes at a 1-byte device: not its access
  EXPECT_TRUE(dev->reads.empty());
  EXPECT_FALSE(bus.write(0x9999, std::span<const std::uint8_t>(buf, 2)));
  EXPECT_EQ(bus.unknown_accesses(), 3u);
}

TEST(DeviceBus, GarbageToEveryPortNeverCrashes) {
  kvm::DeviceBus bus("pio");
  ASSERT_TRUE(bus.insert(std::make_shared<Recorder>("a"), 0x3f8, 8));
  ASSERT_TRUE(bus.insert(std::make_shared<Recorder>("b"), 0xcf8, 8));
  std::uint8_t buf[4] = {0xde, 0xad, 0xbe, 0xef};
  for (std::uint32_t port = 0; port < 0x10000; ++port) {
    for (std::size_t size : {1u, 2u, 4u}) {
      bus.write(port, std::span<const std::uint8_t>(buf, size));
      bus.read(port, std::span<std::uint8_t>(buf, size));
    }
  }
  EXPECT_GT(bus.unknown_accesses(), 0x10000u);
}

TEST(DeviceBus, RemoveFreesTheRange) {
  kvm::DeviceBus bus("mmio");
  auto dev = std::make_shared<Recorder>("bar0");
  ASSERT_TRUE(bus.insert(dev, 0xc0000000, 256));
  EXPECT_TRUE(bus.remove(0xc0000000));
  EXPECT_FALSE(bus.remove(0xc0000000));
  ASSERT_TRUE(bus.insert(dev, 0xc0001000, 256));  // moved BAR
  std::uint8_t b[4];
  EXPECT_TRUE(bus.read(0xc0001004, b));
  EXPECT_FALSE(bus.read(0xc0000004, b));
}
