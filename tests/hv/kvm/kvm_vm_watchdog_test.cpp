// The progress watchdog of the KVM VMM: a guest that never exits to user space and never
// writes a console byte (here a synthetic kernel whose 64-bit entry is `jmp $`; in the field a
// /dev/kvm that cannot run guests) ends with VmEnd::kNoProgress and a message that says so,
// instead of spinning silently forever. Needs a /dev/kvm that opens (any verdict of the probe:
// a KVM that emulates slowly also spins without exits).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <thread>

#include "synthetic_bzimage.hpp"
#include "vitrine/hv/kvm/kvm_vm.hpp"
#include "vitrine/hv/kvm/layout.hpp"

namespace vitrine::hv::kvm {
namespace {

using namespace std::chrono_literals;

class KvmWatchdog : public ::testing::Test {
 protected:
  void SetUp() override {
    const int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) GTEST_SKIP() << "no usable /dev/kvm to open (" << std::strerror(errno) << "): the watchdog needs a VM";
    ::close(fd);
    dir_ = std::filesystem::temp_directory_path() / ("kvm-watchdog-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  // A kernel file whose 64-bit entry point is `code`.
  std::string kernel_with_entry(std::initializer_list<std::uint8_t> code) {
    auto img = test::synthetic_bzimage();
    std::size_t at = test::kSyntheticKernelOffset + layout::kKernel64EntryOffset;
    for (std::uint8_t b : code) img[at++] = std::byte{b};
    const auto path = (dir_ / "bzImage").string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(img.data()),
                                               static_cast<std::streamsize>(img.size()));
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(KvmWatchdog, shouldEndAGuestThatNeverExitsWithNoProgress) {
  KvmVmConfig c;
  c.kernel_path = kernel_with_entry({0xeb, 0xfe});  // jmp $
  c.ram_bytes = 64ull << 20;
  c.progress_timeout = 1s;
  auto vm = KvmVm::create(c);
  ASSERT_TRUE(vm.has_value()) << ringbus::to_string(vm.error());
  const VmResult r = (*vm)->run();
  EXPECT_EQ(r.end, VmEnd::kNoProgress) << vm_end_name(r.end) << ": " << r.detail;
  EXPECT_EQ(r.exits, 0u);
  EXPECT_NE(r.detail.find("no exit to user space and no console byte within 1000 ms"), std::string::npos) << r.detail;
  EXPECT_STREQ(vm_end_name(r.end), "no-progress");
}

TEST_F(KvmWatchdog, shouldLeaveAGuestThatExitsAlone) {
  // out 0x80 (an exit to user space), then spin: the watchdog sees progress and stays quiet;
  // stop() ends the VM.
  KvmVmConfig c;
  c.kernel_path = kernel_with_entry({0xe6, 0x80, 0xeb, 0xfe});  // out 0x80, al ; jmp $
  c.ram_bytes = 64ull << 20;
  c.progress_timeout = 1s;
  auto vm = KvmVm::create(c);
  ASSERT_TRUE(vm.has_value()) << ringbus::to_string(vm.error());
  KvmVm* raw = vm->get();
  std::thread stopper([raw] {
    std::this_thread::sleep_for(2500ms);  // past the watchdog's 1 s: it must not have fired
    raw->stop();
  });
  const VmResult r = raw->run();
  stopper.join();
  EXPECT_EQ(r.end, VmEnd::kStopped) << vm_end_name(r.end) << ": " << r.detail;
  EXPECT_GE(r.exits, 1u);
}

TEST_F(KvmWatchdog, zeroTimeoutTurnsTheWatchdogOff) {
  KvmVmConfig c;
  c.kernel_path = kernel_with_entry({0xeb, 0xfe});
  c.ram_bytes = 64ull << 20;
  c.progress_timeout = 0ms;
  auto vm = KvmVm::create(c);
  ASSERT_TRUE(vm.has_value()) << ringbus::to_string(vm.error());
  KvmVm* raw = vm->get();
  std::thread stopper([raw] {
    std::this_thread::sleep_for(1500ms);
    raw->stop();
  });
  const VmResult r = raw->run();
  stopper.join();
  EXPECT_EQ(r.end, VmEnd::kStopped) << vm_end_name(r.end) << ": " << r.detail;
}

}  // namespace
}  // namespace vitrine::hv::kvm
