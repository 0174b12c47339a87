// End to end through nested KVM: this machine -> QEMU TCG (-cpu max: AMD SVM emulated) booting
// Debian's kernel, which loads kvm-amd and runs `vitrine-vmm --backend kvm` (handed the bus over
// its control socket, as vitrine does), whose vitrine-kvm boots a second Linux guest with
// kCpus vCPUs (ACPI MADT). The inner guest says hello with its online CPU count, and ends with
// `poweroff -f` (ACPI S5), which must end the VM cleanly: "state stopped guest powered off".
// The bus is a /dev/shm file here, QEMU's ivshmem BAR2 in the first guest, and vitrine-kvm's
// ivshmem BAR2 (a KVM memory slot) in the second: the inner guest's program sends checksummed
// records that this test verifies, and checks the ack this test sends back.
// Skips only when the QEMU guest has no SVM (no /dev/kvm after loading kvm-amd) or QEMU is
// missing. Bounded: 330 s for the whole run (image build included).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nested_protocol.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace nested = vitrine::hv::kvm::nested;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr unsigned kCpus = 2;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string run_capture(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

bool have_program(const char* name) {
  int st = 0;
  run_capture(std::string("command -v ") + name + " >/dev/null 2>&1", &st);
  return st == 0;
}

// A child process killed (whole process group) when the test ends early.
struct Child {
  pid_t pid = -1;
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  bool exited(int* status) {
    if (pid <= 0) return true;
    if (::waitpid(pid, status, WNOHANG) == pid) {
      pid = -1;
      return true;
    }
    return false;
  }
};

struct ShmFile {
  std::string path;
  ~ShmFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

}  // namespace

TEST(KvmNested, InnerGuestExchangesChecksummedRecordsThroughTwoLevelsOfIvshmem) {
  if (!have_program("qemu-system-x86_64")) GTEST_SKIP() << "qemu-system-x86_64 not installed";
  const auto t0 = Clock::now();
  const auto deadline = t0 + 330s;

  int st = 0;
  const std::string script_out =
      run_capture(std::string(HV_KVM_IMAGE_SCRIPT) + " --out " + HV_KVM_CACHE + " --vmm " + HV_KVM_VMM +
                      " --vmmd " + HV_KVM_VMMD + " --launcher " + HV_KVM_LAUNCHER + " --guest " + HV_KVM_GUEST +
                      " --cpus " + std::to_string(kCpus) + " 2>&1",
                  &st);
  ASSERT_EQ(st, 0) << "image builder failed:\n" << script_out;
  const auto pos = script_out.rfind("IMAGE ");
  ASSERT_NE(pos, std::string::npos) << script_out;
  std::string image = script_out.substr(pos + 6);
  image.erase(image.find_last_not_of(" \n") + 1);

  // The bus: formatted here, then grown to a power of two for QEMU's BAR2.
  std::mt19937_64 rng(std::random_device{}());
  ShmFile shm{"/dev/shm/vitrine-kvm-nested-" + std::to_string(::getpid()) + "-" + std::to_string(rng() % 100000)};
  constexpr std::uint64_t kBusBytes = 1u << 20;
  auto bus = vitrine::ringbus::Bus::create_at_path(shm.path, vitrine::ringbus::BusConfig::uniform(1, 16, 16));
  ASSERT_TRUE(bus) << vitrine::ringbus::to_string(bus.error());
  ASSERT_LE(bus->size(), kBusBytes);
  ASSERT_EQ(::truncate(shm.path.c_str(), kBusBytes), 0) << std::strerror(errno);

  const std::string log = (std::filesystem::temp_directory_path() /
                           ("vitrine-kvm-nested-" + std::to_string(::getpid()) + ".log")).string();
  Child qemu;
  qemu.pid = ::fork();
  ASSERT_GE(qemu.pid, 0);
  if (qemu.pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    const std::string kernel = image + "/vmlinuz", initrd = image + "/outer.img";
    const std::string memobj = "memory-backend-file,id=bus,mem-path=" + shm.path + ",size=" +
                               std::to_string(kBusBytes) + ",share=on";
    ::execlp("qemu-system-x86_64", "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "1",
             "-nographic", "-no-reboot", "-net", "none", "-kernel", kernel.c_str(), "-initrd", initrd.c_str(),
             "-append", "console=ttyS0 quiet panic=-1", "-object", memobj.c_str(), "-device",
             "ivshmem-plain,memdev=bus", static_cast<char*>(nullptr));
    _exit(127);
  }

  auto& ch = bus->channel(0);
  std::uint32_t good = 0, bad = 0;
  std::vector<std::uint64_t> sums;
  bool acked = false;
  int qemu_status = 0;
  bool qemu_done = false;
  std::chrono::duration<double> first_record{}, hello_at{};
  std::uint32_t guest_cpus = 0;
  while (Clock::now() < deadline) {
    auto n = ch.rx().read([&](const vitrine::ringbus::RecordView& r) {
      if (r.type == nested::kHello && r.payload.size() == 8 && guest_cpus == 0) {
        std::memcpy(&guest_cpus, r.payload.data(), 4);
        hello_at = Clock::now() - t0;
        return;
      }
      if (r.type != nested::kData || r.payload.size() < 16) {
        ++bad;
        return;
      }
      std::uint32_t seq = 0, len = 0;
      std::memcpy(&seq, r.payload.data(), 4);
      std::memcpy(&len, r.payload.data() + 4, 4);
      if (sums.empty()) first_record = Clock::now() - t0;
      std::uint64_t sum = 0;
      bool ok = seq == sums.size() && len == nested::payload_length(seq) && r.payload.size() == 16u + len;
      if (ok) {
        std::memcpy(&sum, r.payload.data() + 8 + len, 8);
        ok = XXH3_64bits(r.payload.data() + 8, len) == sum;
        for (std::uint32_t i = 0; ok && i < len; ++i) {
          ok = std::to_integer<std::uint8_t>(r.payload[8 + i]) == nested::payload_byte(seq, i);
        }
      }
      sums.push_back(sum);
      ok ? ++good : ++bad;
    });
    ASSERT_TRUE(n) << vitrine::ringbus::to_string(n.error());
    if (!acked && good + bad >= nested::kRecords) {
      std::byte ack[16];
      const std::uint64_t all = XXH3_64bits(sums.data(), sums.size() * 8);
      std::memcpy(ack, &good, 4);
      std::memcpy(ack + 4, &bad, 4);
      std::memcpy(ack + 8, &all, 8);
      auto sent = ch.try_send(nested::kAck, ack);
      ASSERT_TRUE(sent && *sent);
      acked = true;
    }
    if (qemu.exited(&qemu_status)) {
      qemu_done = true;
      break;
    }
    std::this_thread::sleep_for(*n > 0 ? 1ms : 20ms);
  }
  const std::string console = slurp(log);
  const double total = std::chrono::duration<double>(Clock::now() - t0).count();
  ::unlink(log.c_str());
  if (console.find("nested: NO-KVM") != std::string::npos) {
    GTEST_SKIP() << "the QEMU TCG guest has no usable SVM (kvm-amd gave no /dev/kvm): " << console.substr(console.find("nested: NO-KVM"), 80);
  }
  ASSERT_TRUE(qemu_done) << "QEMU still running after " << total << " s; console:\n" << console;
  EXPECT_EQ(good, nested::kRecords) << console;
  EXPECT_EQ(bad, 0u) << console;
  EXPECT_TRUE(acked);
  EXPECT_NE(console.find("nested-guest: OK"), std::string::npos) << console;
  EXPECT_EQ(guest_cpus, kCpus) << console;
  EXPECT_NE(console.find("vmm-event: state running"), std::string::npos) << console;
  EXPECT_NE(console.find("vmm-event: state stopped guest powered off"), std::string::npos) << console;
  EXPECT_NE(console.find("nested: vitrine-vmm exited 0"), std::string::npos) << console;
  EXPECT_NE(console.find("VM ended: power-off"), std::string::npos) << console;
  // The whole VM ran inside vitrine-kvm's jail and under vitrine-vmm's lock-down: a system call
  // missing from either filter would have killed the VMM (SIGSYS) before the power-off.
  EXPECT_NE(console.find("jail: no_new_privs on, user ns on, net ns on, empty root on, seccomp on"), std::string::npos)
      << console;
  EXPECT_NE(console.find("vmm-event: info locked down"), std::string::npos) << console;
  std::printf("nested run: hello (%u cpus) after %.1f s, first record after %.1f s, QEMU done after %.1f s\n",
              guest_cpus, hello_at.count(), first_record.count(), total);
}
