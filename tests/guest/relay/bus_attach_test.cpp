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

// BAR0 as QEMU's ivshmem-doorbell shows it: IVPosition (offset 8) = our peer id, Doorbell at 12.
void write_bar0(const fs::path& dev, std::uint32_t iv_position) {
  std::uint32_t regs[64] = {};
  regs[2] = iv_position;
  regs[3] = 0xFFFFFFFFu;  // so that the ring's write of 0 (host peer 0, vector 0) shows
  std::ofstream(dev / "resource0", std::ios::binary).write(reinterpret_cast<const char*>(regs), sizeof regs);
}
std::uint32_t doorbell_register(const fs::path& dev) {
  std::uint32_t regs[4] = {};
  std::ifstream(dev / "resource0", std::ios::binary).read(reinterpret_cast<char*>(regs), sizeof regs);
  return regs[3];
}

TEST(BusAttach, WithADoorbellServerTheRelayRingsTheHostThroughBar0) {
  FakeSysfs sys;
  const fs::path dev = sys.device("0000:00:05.0", "0x1af4", "0x1110");
  auto host = ringbus::Bus::create_at_path((dev / "resource2").string(), ringbus::BusConfig::uniform(3, 12, 12));
  ASSERT_TRUE(host.has_value());
  write_bar0(dev, 1);
  auto attached = attach_ivshmem(sys.root.string(), "");
  ASSERT_TRUE(attached.has_value()) << rdpmux::to_string(attached.error());
  ASSERT_NE((*attached)->doorbells.host_ringer(), nullptr);
  EXPECT_TRUE((*attached)->doorbells.polling()) << "the guest itself still polls";
  EXPECT_NE((*attached)->description.find("rings the host as peer 1"), std::string::npos);
  ASSERT_TRUE((*attached)->doorbells.apply((*attached)->bus));
  ringbus::Channel& ch = (*attached)->bus.channel(1);
  // The host does not wait: no ring.
  ASSERT_TRUE(ch.try_send(1, std::as_bytes(std::span("a", 1))).value_or(false));
  EXPECT_EQ(doorbell_register(dev), 0xFFFFFFFFu);
  // The host reads what is there, then sleeps on channel 1's records: the next record rings it
  // (peer 0, vector 0).
  ringbus::Ring& host_rx = host->channel(1).rx();
  ASSERT_EQ(host_rx.read([](const ringbus::RecordView&) {}, 8).value_or(0), 1u);
  ASSERT_FALSE(host_rx.arm_readable().value_or(true)) << "nothing pending: the host may sleep";
  ASSERT_TRUE(ch.try_send(1, std::as_bytes(std::span("b", 1))).value_or(false));
  EXPECT_EQ(doorbell_register(dev), 0u);
}

TEST(BusAttach, IvshmemPlainHasNoDoorbellAndPolls) {
  FakeSysfs sys;
  const fs::path dev = sys.device("0000:00:05.0", "0x1af4", "0x1110");
  auto host = ringbus::Bus::create_at_path((dev / "resource2").string(), ringbus::BusConfig::uniform(3, 12, 12));
  ASSERT_TRUE(host.has_value());
  write_bar0(dev, 0xFFFFFFFFu);  // IVPosition -1: no server
  auto attached = attach_ivshmem(sys.root.string(), "");
  ASSERT_TRUE(attached.has_value()) << rdpmux::to_string(attached.error());
  EXPECT_EQ((*attached)->doorbells.host_ringer(), nullptr);
  EXPECT_TRUE((*attached)->doorbells.polling());
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
