// Attaching the guest side: fd lists, the ivshmem sysfs scan against a fake sysfs tree.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "vitrine/relay/bus_attach.hpp"

namespace vitrine::relay {
namespace {

namespace fs = std::filesystem;

struct FakeSysfs {
  fs::path root;
  FakeSysfs() {
    char t[] = "/tmp/vitrine-sysfs-XXXXXX";
    root = ::mkdtemp(t);
  }
  ~FakeSysfs() { fs::remove_all(root); }
  fs::path device(const std::string& bdf, const std::string& vendor, const std::string& device) {
    const fs::path d = root / "bus/pci/devices" / bdf;
    fs::create_directories(d);
    std::ofstream(d / "vendor") << vendor << "\n";
    std::ofstream(d / "device") << device << "\n";
    return d;
  }
};

TEST(BusAttach, ParsesFdLists) {
  EXPECT_EQ(*parse_fd_list("3"), std::vector<int>{3});
  EXPECT_EQ(*parse_fd_list("3,4,10"), (std::vector<int>{3, 4, 10}));
  EXPECT_FALSE(parse_fd_list("3,,4"));
  EXPECT_FALSE(parse_fd_list("a"));
  EXPECT_FALSE(parse_fd_list("-1"));
  EXPECT_FALSE(parse_fd_list("3,"));
}

TEST(BusAttach, FindsIvshmemDevicesInSysfs) {
  FakeSysfs sys;
  sys.device("0000:00:01.0", "0x8086", "0x1237");  // host bridge
  const fs::path plain = sys.device("0000:00:05.0", "0x1af4", "0x1110");
  sys.device("0000:00:04.0", "0x1af4", "0x1110");   // no BAR2 (no shared memory): skipped
  sys.device("0000:00:06.0", "0x1af4", "0x1000");   // virtio-net, same vendor
  auto bus = ringbus::Bus::create_at_path((plain / "resource2").string(), ringbus::BusConfig::uniform(3, 12, 12));
  ASSERT_TRUE(bus.has_value()) << ringbus::to_string(bus.error());
  auto found = find_ivshmem_devices(sys.root.string());
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].bdf, "0000:00:05.0");
  EXPECT_EQ((*found)[0].size, bus->size());

  auto attached = attach_ivshmem(sys.root.string(), "");
  ASSERT_TRUE(attached.has_value()) << rdpmux::to_string(attached.error());
  EXPECT_EQ((*attached)->bus.channel_count(), 3u);
  EXPECT_TRUE((*attached)->doorbells.polling());
  EXPECT_FALSE(attach_ivshmem(sys.root.string(), "0000:00:09.0"));
}

TEST(BusAttach, NoDevicesIsAClearError) {
  FakeSysfs sys;
  auto found = find_ivshmem_devices(sys.root.string());
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->empty());
  auto attached = attach_ivshmem(sys.root.string(), "");
  ASSERT_FALSE(attached.has_value());
  EXPECT_NE(attached.error().message.find("1af4:1110"), std::string::npos);
}

TEST(BusAttach, GarbageInTheBarIsRejected) {
  FakeSysfs sys;
  const fs::path d = sys.device("0000:00:05.0", "0x1af4", "0x1110");
  std::ofstream(d / "resource2") << std::string(1 << 16, 'x');
  auto attached = attach_ivshmem(sys.root.string(), "");
  ASSERT_FALSE(attached.has_value());
}

}  // namespace
}  // namespace vitrine::relay
