// The kvm backend of vitrine-vmm without /dev/kvm: config -> vitrine-kvm arguments, the config
// checks, and the error when the KVM device is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "vitrine/hv/kvm_command.hpp"

namespace vitrine::hv {
namespace {

VmConfig kvm_config() {
  VmConfig c;
  c.name = "k";
  c.backend = BackendKind::kKvm;
  c.kernel = "/images/vmlinuz";
  c.initramfs = "/images/initramfs.img";
  c.cmdline = "console=ttyS0 quiet panic=-1 reboot=k";
  c.memory_mib = 256;
  c.vcpus = 2;
  return c;
}

// The value after `flag` in argv ("" when absent).
std::string arg(const std::vector<std::string>& argv, const std::string& flag) {
  auto it = std::find(argv.begin(), argv.end(), flag);
  return it == argv.end() || it + 1 == argv.end() ? "" : *(it + 1);
}

TEST(KvmCommand, MapsTheConfigOntoVitrineKvmArguments) {
  KvmPaths p;
  p.program = "/opt/vitrine/bin/vitrine-kvm";
  p.serial_log = "/logs/k-serial.log";
  const auto argv = kvm_command(kvm_config(), p);
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv[0], "/opt/vitrine/bin/vitrine-kvm");
  EXPECT_EQ(arg(argv, "--kernel"), "/images/vmlinuz");
  EXPECT_EQ(arg(argv, "--initrd"), "/images/initramfs.img");
  EXPECT_EQ(arg(argv, "--cmdline"), "console=ttyS0 quiet panic=-1 reboot=k");
  EXPECT_EQ(arg(argv, "--mem"), "256");
  EXPECT_EQ(arg(argv, "--cpus"), "2");
  EXPECT_EQ(arg(argv, "--bus-fd"), std::to_string(kKvmBusFd));
  EXPECT_EQ(arg(argv, "--doorbell-to-host-fd"), std::to_string(kKvmWakeHostFd));
  EXPECT_EQ(arg(argv, "--doorbell-to-guest-fd"), std::to_string(kKvmWakeGuestFd));
  EXPECT_EQ(arg(argv, "--console-log"), "/logs/k-serial.log");
}

TEST(KvmCommand, IvshmemPlainLeavesTheDoorbellsOut) {
  VmConfig c = kvm_config();
  c.doorbell = DoorbellMode::kIvshmemPlain;
  const auto argv = kvm_command(c, KvmPaths{});
  EXPECT_EQ(argv[0], "vitrine-kvm");
  EXPECT_EQ(arg(argv, "--bus-fd"), std::to_string(kKvmBusFd));
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--doorbell-to-host-fd"), argv.end());
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--doorbell-to-guest-fd"), argv.end());
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--console-log"), argv.end());
}

TEST(KvmCommand, ConfigChecksNameTheField) {
  EXPECT_TRUE(check_kvm_config(kvm_config()).has_value());
  auto expect_field = [](VmConfig c, const std::string& start) {
    auto r = check_kvm_config(c);
    ASSERT_FALSE(r.has_value()) << start;
    EXPECT_TRUE(r.error().message.starts_with(start)) << r.error().message;
  };
  VmConfig c = kvm_config();
  c.memory_mib = 4096;
  expect_field(c, "vm.memory_mib: 4096 exceeds");
  c = kvm_config();
  c.vcpus = 17;
  expect_field(c, "vm.vcpus: 17 exceeds");
  c = kvm_config();
  c.accel = Accel::kTcg;
  expect_field(c, "vm.accel: \"tcg\"");
  c = kvm_config();
  c.user_net = true;
  expect_field(c, "vm.user_net:");
  c = kvm_config();
  c.accel = Accel::kKvm;
  EXPECT_TRUE(check_kvm_config(c).has_value());
}

TEST(KvmCommand, MissingKvmDeviceIsAClearError) {
  auto r = check_kvm_device("/nonexistent/kvm");
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().message.starts_with("no /nonexistent/kvm: open: No such file or directory"))
      << r.error().message;
  EXPECT_NE(r.error().message.find("backend = \"qemu\""), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace vitrine::hv
