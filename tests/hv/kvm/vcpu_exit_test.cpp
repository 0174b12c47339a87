// The exit decoder with hand-made kvm_run pages.
#include <gtest/gtest.h>
#include <linux/kvm.h>

#include <cstring>
#include <vector>

#include "vitrine/hv/kvm/vcpu_exit.hpp"

namespace kvm = vitrine::hv::kvm;

namespace {
struct FakeRun {
  std::vector<std::byte> page = std::vector<std::byte>(4096);
  kvm_run* run() { return reinterpret_cast<kvm_run*>(page.data()); }
};
}  // namespace

TEST(VcpuExit, PortOutCarriesPortAndBytes) {
  FakeRun f;
  f.run()->exit_reason = KVM_EXIT_IO;
  f.run()->io.direction = KVM_EXIT_IO_OUT;
  f.run()->io.size = 1;
  f.run()->io.port = 0x3f8;
  f.run()->io.count = 1;
  f.run()->io.data_offset = 0x1000 - 16;
  f.page[0x1000 - 16] = std::byte{'A'};
  auto e = kvm::decode_exit(f.run(), f.page.size());
  ASSERT_TRUE(std::holds_alternative<kvm::ExitIoOut>(e)) << kvm::exit_name(e);
  const auto& out = std::get<kvm::ExitIoOut>(e);
  EXPECT_EQ(out.port, 0x3f8);
  ASSERT_EQ(out.data.size(), 1u);
  EXPECT_EQ(out.data[0], 'A');
}

TEST(VcpuExit, PortInPointsIntoThePage) {
  FakeRun f;
  f.run()->exit_reason = KVM_EXIT_IO;
  f.run()->io.direction = KVM_EXIT_IO_IN;
  f.run()->io.size = 4;
  f.run()->io.port = 0xcfc;
  f.run()->io.count = 1;
  f.run()->io.data_offset = sizeof(kvm_run);
  auto e = kvm::decode_exit(f.run(), f.page.size());
  ASSERT_TRUE(std::holds_alternative<kvm::ExitIoIn>(e));
  auto& in = std::get<kvm::ExitIoIn>(e);
  EXPECT_EQ(in.data.size(), 4u);
  in.data[0] = 0x5a;  // the handler fills it; the kernel reads it back from the page
  EXPECT_EQ(f.page[sizeof(kvm_run)], std::byte{0x5a});
}

TEST(VcpuExit, BadIoOffsetsAndSizesAreUnsupportedNotCrashes) {
  FakeRun f;
  f.run()->exit_reason = KVM_EXIT_IO;
  f.run()->io.size = 4;
  f.run()->io.count = 1;
  f.run()->io.data_offset = 4094;  // 4 bytes would run past the page
  EXPECT_TRUE(std::holds_alternative<kvm::ExitUnsupported>(kvm::decode_exit(f.run(), f.page.size())));
  f.run()->io.data_offset = 8;  // inside the kvm_run header itself
  EXPECT_TRUE(std::holds_alternative<kvm::ExitUnsupported>(kvm::decode_exit(f.run(), f.page.size())));
  f.run()->io.data_offset = sizeof(kvm_run);
  f.run()->io.size = 3;
  EXPECT_TRUE(std::holds_alternative<kvm::ExitUnsupported>(kvm::decode_exit(f.run(), f.page.size())));
  f.run()->io.size = 1;
  f.run()->io.count = 16;  // rep outsb
  auto e = kvm::decode_exit(f.run(), f.page.size());
  ASSERT_TRUE(std::holds_alternative<kvm::ExitUnsupported>(e));
  EXPECT_NE(std::get<kvm::ExitUnsupported>(e).what.find("count 16"), std::string::npos);
}

TEST(VcpuExit, MmioReadAndWrite) {
  FakeRun f;
  f.run()->exit_reason = KVM_EXIT_MMIO;
  f.run()->mmio.phys_addr = 0xc000000c;
  f.run()->mmio.len = 4;
  f.run()->mmio.is_write = 1;
  std::uint32_t v = 0x10000;
  std::memcpy(f.run()->mmio.data, &v, 4);
  auto w = kvm::decode_exit(f.run(), f.page.size());
  ASSERT_TRUE(std::holds_alternative<kvm::ExitMmioWrite>(w));
  EXPECT_EQ(std::get<kvm::ExitMmioWrite>(w).addr, 0xc000000cu);
  EXPECT_EQ(std::get<kvm::ExitMmioWrite>(w).data.size(), 4u);
  f.run()->mmio.is_write = 0;
  EXPECT_TRUE(std::holds_alternative<kvm::ExitMmioRead>(kvm::decode_exit(f.run(), f.page.size())));
  f.run()->mmio.len = 9;
  EXPECT_TRUE(std::holds_alternative<kvm::ExitUnsupported>(kvm::decode_exit(f.run(), f.page.size())));
}

TEST(VcpuExit, LifecycleExits) {
  FakeRun f;
  f.run()->exit_reason = KVM_EXIT_SHUTDOWN;
  EXPECT_TRUE(std::holds_alternative<kvm::ExitShutdown>(kvm::decode_exit(f.run(), f.page.size())));
  f.run()->exit_reason = KVM_EXIT_HLT;
  EXPECT_TRUE(std::holds_alternative<kvm::ExitHlt>(kvm::decode_exit(f.run(), f.page.size())));
  f.run()->exit_reason = KVM_EXIT_INTR;
  EXPECT_TRUE(std::holds_alternative<kvm::ExitInterrupted>(kvm::decode_exit(f.run(), f.page.size())));
  f.run()->exit_reason = KVM_EXIT_SYSTEM_EVENT;
  f.run()->system_event.type = KVM_SYSTEM_EVENT_RESET;
  auto s = kvm::decode_exit(f.run(), f.page.size());
  ASSERT_TRUE(std::holds_alternative<kvm::ExitSystemEvent>(s));
  EXPECT_EQ(std::get<kvm::ExitSystemEvent>(s).type, KVM_SYSTEM_EVENT_RESET);
  f.run()->exit_reason = KVM_EXIT_FAIL_ENTRY;
  f.run()->fail_entry.hardware_entry_failure_reason = 0x21;
  auto fe = kvm::decode_exit(f.run(), f.page.size());
  ASSERT_TRUE(std::holds_alternative<kvm::ExitFailEntry>(fe));
  EXPECT_EQ(std::get<kvm::ExitFailEntry>(fe).hardware_reason, 0x21u);
  f.run()->exit_reason = KVM_EXIT_INTERNAL_ERROR;
  f.run()->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
  EXPECT_TRUE(std::holds_alternative<kvm::ExitInternalError>(kvm::decode_exit(f.run(), f.page.size())));
  f.run()->exit_reason = 9999;
  auto u = kvm::decode_exit(f.run(), f.page.size());
  ASSERT_TRUE(std::holds_alternative<kvm::ExitUnsupported>(u));
  EXPECT_STREQ(kvm::exit_name(u), "unsupported");
}
