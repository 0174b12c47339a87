// QEMU backend end to end (TCG on CI): boot Debian's kernel with the hv image, run hv_bus_echo
// in the guest on the ivshmem bus, push checksummed data both ways, power off.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "guest_image.hpp"
#include "vmm_harness.hpp"

namespace vitrine::hv {
namespace {

using namespace std::chrono_literals;
using test::VmmHarness;

std::string config(const test::GuestImage& img, const std::string& doorbell, const std::string& extra = "") {
  return "name = \"qvm\"\nbackend = \"qemu\"\n"
         "[bus]\nsize = 4194304\nchannels = 2\nring_size = 262144\n"
         "[vm]\nkernel = \"" + img.kernel.string() + "\"\ninitramfs = \"" + img.initramfs.string() + "\"\n"
         "memory_mib = 256\ncmdline = \"console=ttyS0 quiet panic=-1\"\n"
         "doorbell = \"" + doorbell + "\"\n" + extra;
}

class QemuVmTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    if (!test::have_qemu()) GTEST_SKIP() << "qemu-system-x86_64 is not installed (scripts/deps/hv.txt)";
    image_ = test::build_guest_image(HV_IMAGE_CACHE, "/bin/hv_bus_echo --ivshmem", HV_IMAGE_CACHE "/build-" + std::to_string(::getpid()) + ".log");
    if (!image_) GTEST_SKIP() << "no guest image: " << image_.error;
  }
  test::GuestImage image_;
};

TEST_P(QemuVmTest, shouldBootExchangeChecksummedDataAndPowerOff) {
  auto h = VmmHarness::start(config(image_, GetParam()), HV_VMM_PATH);
  ASSERT_TRUE(h.has_value()) << ringbus::to_string(h.error());
  auto& vm = **h;
  ASSERT_TRUE(vm.wait_for("state running", 10s).has_value()) << vm.logs();
  // TCG boot of Debian's kernel: ~6-10 s on a 2-core machine.
  auto hello = vm.wait_hello(60s);
  ASSERT_TRUE(hello.has_value()) << ringbus::to_string(hello.error()) << vm.logs();
  EXPECT_EQ(hello->attach, 2u) << "attached through the ivshmem PCI device";

  auto echoed = vm.host().echo(300, 3000, 30s);
  ASSERT_TRUE(echoed.has_value()) << ringbus::to_string(echoed.error()) << vm.logs();
  EXPECT_EQ(echoed->bad, 0u);
  echo::TrafficResult t;
  auto gen = vm.host().generate(2000, 4000, 30s, &t);
  ASSERT_TRUE(gen.has_value()) << ringbus::to_string(gen.error()) << vm.logs();
  EXPECT_EQ(t.bad, 0u);

  // The guest program ends, init powers off, QEMU exits 0: a clean stop, not a crash.
  ASSERT_TRUE(vm.host().quit().has_value());
  auto stopped = vm.wait_for("state ", 30s);
  ASSERT_TRUE(stopped.has_value()) << vm.logs();
  EXPECT_EQ(*stopped, "state stopped guest powered off") << vm.logs();
  auto st = vm.vmm().process().wait_for(10s);
  ASSERT_TRUE(st.has_value() && st->has_value());
  EXPECT_TRUE((*st)->clean()) << (*st)->to_string();
}

// The accelerator choice on every kind of host, made deterministic: VITRINE_KVM_PROBE forces the
// probe's verdict (vitrine-vmm inherits it), and a stand-in QEMU dies under KVM the way QEMU 7.2
// does on hosts that refuse an MSR.
class QemuAccel : public QemuVmTest {
 protected:
  void SetUp() override {
    QemuVmTest::SetUp();
    if (IsSkipped()) return;
    char tmpl[] = "/tmp/qemu-accel-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    ::unsetenv("VITRINE_KVM_PROBE");
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  // A qemu binary that aborts as soon as it is asked for KVM, and is the real QEMU otherwise.
  std::string qemu_that_dies_under_kvm() {
    const auto path = dir_ / "qemu-dies-under-kvm";
    std::ofstream(path) << "#!/bin/sh\n"
                           "for a in \"$@\"; do\n"
                           "  if [ \"$a\" = kvm ]; then\n"
                           "    echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69 (stand-in)' >&2; exit 134\n"
                           "  fi\n"
                           "done\n"
                           "exec qemu-system-x86_64 \"$@\"\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_P(QemuAccel, shouldFallBackToTcgWhenQemuDiesInItsFirstSecondsUnderKvm) {
  ::setenv("VITRINE_KVM_PROBE", "usable", 1);
  auto h = VmmHarness::start(config(image_, GetParam(), "qemu = \"" + qemu_that_dies_under_kvm() + "\"\n"), HV_VMM_PATH);
  ASSERT_TRUE(h.has_value()) << ringbus::to_string(h.error());
  auto& vm = **h;
  ASSERT_TRUE(vm.wait_for("info accel kvm", 10s).has_value()) << vm.logs();
  auto fell_back = vm.wait_for("info accel tcg", 10s);
  ASSERT_TRUE(fell_back.has_value()) << vm.logs();
  EXPECT_NE(fell_back->find("qemu under kvm died after"), std::string::npos) << *fell_back;
  EXPECT_NE(fell_back->find("failed to set MSR 0x10a"), std::string::npos) << *fell_back;
  // The TCG QEMU is the VM: it boots and carries checksummed data.
  auto hello = vm.wait_hello(60s);
  ASSERT_TRUE(hello.has_value()) << ringbus::to_string(hello.error()) << vm.logs();
  auto echoed = vm.host().echo(50, 3000, 30s);
  ASSERT_TRUE(echoed.has_value()) << ringbus::to_string(echoed.error()) << vm.logs();
  EXPECT_EQ(echoed->bad, 0u);
}

TEST_P(QemuAccel, shouldSayWhyItTakesTcgWhenKvmCannotRunGuests) {
  ::setenv("VITRINE_KVM_PROBE", "unusable:no exit to user space within 1000 ms", 1);
  auto h = VmmHarness::start(config(image_, GetParam()), HV_VMM_PATH);
  ASSERT_TRUE(h.has_value()) << ringbus::to_string(h.error());
  auto& vm = **h;
  auto accel = vm.wait_for("info accel", 10s);
  ASSERT_TRUE(accel.has_value()) << vm.logs();
  EXPECT_EQ(*accel, "info accel tcg (/dev/kvm present but cannot run a guest: no exit to user space within 1000 ms)");
  ASSERT_TRUE(vm.wait_for("state running", 10s).has_value()) << vm.logs();
}

TEST_P(QemuAccel, shouldRefuseAccelKvmWithTheProbesResultInsteadOfAborting) {
  ::setenv("VITRINE_KVM_PROBE", "unusable:no exit to user space within 1000 ms", 1);
  auto h = VmmHarness::start(config(image_, GetParam(), "accel = \"kvm\"\n"), HV_VMM_PATH);
  ASSERT_TRUE(h.has_value()) << ringbus::to_string(h.error());
  auto& vm = **h;
  auto crashed = vm.wait_for("state crashed", 10s);
  ASSERT_TRUE(crashed.has_value()) << vm.logs();
  EXPECT_NE(crashed->find("vm.accel = \"kvm\" but /dev/kvm present but cannot run a guest: no exit to user space "
                          "within 1000 ms [kvm probe, forced (VITRINE_KVM_PROBE)]"),
            std::string::npos)
      << *crashed;
  auto st = vm.vmm().process().wait_for(10s);
  ASSERT_TRUE(st.has_value() && st->has_value());
  EXPECT_EQ((*st)->code, 1) << (*st)->to_string();
}

TEST_P(QemuAccel, shouldReportADeadVmAtOnceNotAfterTheHelloTimeout) {
  // QEMU that exits at once (under TCG: nothing to fall back to): the wait for the hello ends
  // with the VM's end, long before its 60 s timeout.
  auto h = VmmHarness::start(config(image_, GetParam(), "accel = \"tcg\"\nqemu = \"/bin/false\"\n"), HV_VMM_PATH);
  ASSERT_TRUE(h.has_value()) << ringbus::to_string(h.error());
  auto& vm = **h;
  const auto t0 = std::chrono::steady_clock::now();
  auto hello = vm.wait_hello(60s);
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(hello.has_value());
  EXPECT_NE(ringbus::to_string(hello.error()).find("state crashed qemu exit 1"), std::string::npos)
      << ringbus::to_string(hello.error()) << vm.logs();
  EXPECT_LT(waited, 10s) << "the dead VM was noticed only after the hello timeout";
}

INSTANTIATE_TEST_SUITE_P(Doorbells, QemuAccel, ::testing::Values("ivshmem-doorbell", "ivshmem-plain"),
                         [](const auto& param_info) {
                           return std::string(param_info.param) == "ivshmem-plain" ? "plain" : "doorbell";
                         });

INSTANTIATE_TEST_SUITE_P(Doorbells, QemuVmTest, ::testing::Values("ivshmem-doorbell", "ivshmem-plain"),
                         [](const auto& param_info) {
                           return std::string(param_info.param) == "ivshmem-plain" ? "plain" : "doorbell";
                         });

}  // namespace
}  // namespace vitrine::hv
