// QEMU backend end to end (TCG on CI): boot Debian's kernel with the hv image, run hv_bus_echo
// in the guest on the ivshmem bus, push checksummed data both ways, power off.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <string>

#include "guest_image.hpp"
#include "vmm_harness.hpp"

namespace vitrine::hv {
namespace {

using namespace std::chrono_literals;
using test::VmmHarness;

std::string config(const test::GuestImage& img, const std::string& doorbell) {
  return "name = \"qvm\"\nbackend = \"qemu\"\n"
         "[bus]\nsize = 4194304\nchannels = 2\nring_size = 262144\n"
         "[vm]\nkernel = \"" + img.kernel.string() + "\"\ninitramfs = \"" + img.initramfs.string() + "\"\n"
         "memory_mib = 256\ncmdline = \"console=ttyS0 quiet panic=-1\"\n"
         "doorbell = \"" + doorbell + "\"\n";
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
  auto hello = vm.host().wait_hello(60s);
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

INSTANTIATE_TEST_SUITE_P(Doorbells, QemuVmTest, ::testing::Values("ivshmem-doorbell", "ivshmem-plain"),
                         [](const auto& param_info) {
                           return std::string(param_info.param) == "ivshmem-plain" ? "plain" : "doorbell";
                         });

}  // namespace
}  // namespace vitrine::hv
