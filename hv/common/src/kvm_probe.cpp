#include "vitrine/hv/kvm_probe.hpp"

#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <fstream>
#include <sstream>

namespace vitrine::hv {
namespace {

using Clock = std::chrono::steady_clock;

// The probe guest runs twice, as the two ways an ordinary guest starts:
//  - vCPU 0 in 16-bit real mode (firmware: QEMU's SeaBIOS), code at 0x1000 with CS base 0:
//      mov dx, 0xe9 ; mov al, 0x5a ; out dx, al ; hlt
//  - vCPU 1 in 64-bit long mode with paging (a Linux kernel entered directly: vitrine-kvm),
//    identity-mapped by one 2 MiB page, code at 0x5000:
//      mov edx, 0xe9 ; mov al, 0xa5 ; out dx, al ; mov ecx, 1000000 ; l: dec ecx ; jnz l ; hlt
// Each must come back to user space with its port write, then its halt. The loop between the
// long-mode port write and the halt (2 million instructions: about a millisecond on hardware
// virtualization, a few under nested KVM emulated by QEMU TCG) is timed: a host KVM that
// emulates guests instruction by instruction (seen: a paravirtual `kvm-pvm` host, which ran
// the tiny guest correctly at ~2 million instructions/s and Linux's decompressor for minutes)
// is slower than TCG and fails the probe with its measured rate.
// Port 0xe9 is Bochs' debug port: nothing a real device would claim.
constexpr std::uint8_t kRealModeCode[] = {0xba, 0xe9, 0x00, 0xb0, 0x5a, 0xee, 0xf4};
constexpr std::uint32_t kLoopIterations = 1000000;
constexpr std::uint64_t kLoopInstructions = 2ull * kLoopIterations;
constexpr std::uint8_t kLongModeCode[] = {
    0xba, 0xe9, 0x00, 0x00, 0x00,                            // mov edx, 0xe9
    0xb0, 0xa5,                                              // mov al, 0xa5
    0xee,                                                    // out dx, al
    0xb9, kLoopIterations & 0xff, (kLoopIterations >> 8) & 0xff, (kLoopIterations >> 16) & 0xff,
    (kLoopIterations >> 24) & 0xff,                          // mov ecx, kLoopIterations
    0xff, 0xc9,                                              // l: dec ecx
    0x75, 0xfc,                                              // jnz l
    0xf4};                                                   // hlt
// The slowest guest we still call usable: 20 million instructions/s (the loop in 100 ms). TCG
// runs such a loop at hundreds of millions, so below this QEMU TCG is the better choice.
constexpr std::uint64_t kMinInstructionsPerSecond = 20'000'000;
constexpr std::uint16_t kProbePort = 0xe9;
constexpr std::uint8_t kRealModeValue = 0x5a;
constexpr std::uint8_t kLongModeValue = 0xa5;
// Guest physical layout (one 64 KiB slot at 0).
constexpr std::uint64_t kRealCodeGpa = 0x1000;
constexpr std::uint64_t kPml4Gpa = 0x2000;
constexpr std::uint64_t kPdptGpa = 0x3000;
constexpr std::uint64_t kPdGpa = 0x4000;
constexpr std::uint64_t kLongCodeGpa = 0x5000;
constexpr std::size_t kGuestBytes = 0x10000;

// How far the child got. The child writes one report per step that may block, and a last one;
// each is a single write of under PIPE_BUF bytes, so the parent never sees half a report.
enum Stage : std::int32_t {
  kOpen, kApiVersion, kCreateVm, kGuestMemory, kMemoryRegion, kCreateVcpu, kRunMapping,  // per vCPU from here
  kRegisters, kRunning /* inside the first KVM_RUN */, kFirstExit, kRunningToHalt, kSecondExit, kDone,
};

struct Report {
  std::int32_t stage = kOpen;
  std::int32_t err = 0;   // errno of the failed call
  std::uint32_t mode = 0;  // 0: the real-mode vCPU, 1: the long-mode vCPU
  std::uint32_t exit_reason = 0;
  std::uint32_t port = 0;
  std::uint32_t value = 0;
  std::uint64_t loop_ns = 0;  // long mode: from the port write's return to the halt
};
static_assert(sizeof(Report) < PIPE_BUF);

const char* stage_call(std::int32_t stage) {
  switch (stage) {
    case kOpen: return "open";
    case kApiVersion: return "KVM_GET_API_VERSION";
    case kCreateVm: return "KVM_CREATE_VM";
    case kGuestMemory: return "mmap of guest memory";
    case kMemoryRegion: return "KVM_SET_USER_MEMORY_REGION";
    case kCreateVcpu: return "KVM_CREATE_VCPU";
    case kRunMapping: return "mmap of kvm_run";
    case kRegisters: return "KVM_SET_SREGS/KVM_SET_REGS";
    case kRunning: case kFirstExit: case kRunningToHalt: case kSecondExit: return "KVM_RUN";
    default: return "probe";
  }
}

const char* exit_name(std::uint32_t reason) {
  switch (reason) {
    case KVM_EXIT_UNKNOWN: return "UNKNOWN";
    case KVM_EXIT_EXCEPTION: return "EXCEPTION";
    case KVM_EXIT_IO: return "IO";
    case KVM_EXIT_HLT: return "HLT";
    case KVM_EXIT_MMIO: return "MMIO";
    case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
    case KVM_EXIT_INTR: return "INTR";
    case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT: return "SYSTEM_EVENT";
    default: return "other";
  }
}

// Long-mode segment registers as a 64-bit kernel expects them (flat, present, ring 0).
void set_long_mode(kvm_sregs& sregs) {
  kvm_segment code{};
  code.limit = 0xffffffff;
  code.selector = 0x8;
  code.type = 0xb;  // execute/read, accessed
  code.present = 1;
  code.s = 1;
  code.l = 1;  // 64-bit code segment (db must be 0)
  code.g = 1;
  kvm_segment data = code;
  data.selector = 0x10;
  data.type = 0x3;  // read/write, accessed
  data.l = 0;
  data.db = 1;
  sregs.cs = code;
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  sregs.cr0 = 0x80050033;  // PG | AM | WP | NE | ET | MP | PE
  sregs.cr3 = kPml4Gpa;
  sregs.cr4 = 0x20;        // PAE
  sregs.efer = 0x500;      // LMA | LME
}

// Runs in the forked child: raw syscalls only (the parent may have other threads, so nothing
// that allocates or takes a lock). Writes reports to `out` and exits.
[[noreturn]] void run_probe_guest(const char* device, int out) {
  Report r;
  auto say = [&](Stage s) {
    r.stage = s;
    (void)!::write(out, &r, sizeof r);
  };
  auto fail = [&](Stage s) {
    r.stage = s;
    r.err = errno;
    (void)!::write(out, &r, sizeof r);
    ::_exit(1);
  };
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int kvm = ::open(device, O_RDWR | O_CLOEXEC);
  if (kvm < 0) fail(kOpen);
  const int api = ::ioctl(kvm, KVM_GET_API_VERSION, 0);
  if (api != KVM_API_VERSION) {
    errno = api < 0 ? errno : EPROTO;
    fail(kApiVersion);
  }
  const int vm = ::ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) fail(kCreateVm);
  // Intel without unrestricted guest emulates real mode through a TSS: give it one (QEMU's
  // address). AMD and unrestricted guests ignore it; a failure here is not the verdict.
  (void)::ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL);
  void* mem = ::mmap(nullptr, kGuestBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) fail(kGuestMemory);
  auto* ram = static_cast<std::uint8_t*>(mem);
  std::memcpy(ram + kRealCodeGpa, kRealModeCode, sizeof kRealModeCode);  // builtins, no lock
  std::memcpy(ram + kLongCodeGpa, kLongModeCode, sizeof kLongModeCode);
  auto entry = [&](std::uint64_t gpa, std::uint64_t value) { std::memcpy(ram + gpa, &value, sizeof value); };
  entry(kPml4Gpa, kPdptGpa | 0x3);  // present | writable
  entry(kPdptGpa, kPdGpa | 0x3);
  entry(kPdGpa, 0x0 | 0x83);        // a 2 MiB page at 0: present | writable | PS
  kvm_userspace_memory_region region{};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = kGuestBytes;
  region.userspace_addr = reinterpret_cast<std::uint64_t>(mem);
  if (::ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) fail(kMemoryRegion);
  const int run_size = ::ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size <= 0) fail(kRunMapping);

  for (std::uint32_t mode = 0; mode < 2; ++mode) {
    r.mode = mode;
    r.exit_reason = r.port = r.value = 0;
    const int vcpu = ::ioctl(vm, KVM_CREATE_VCPU, static_cast<unsigned long>(mode));
    if (vcpu < 0) fail(kCreateVcpu);
    auto* run = static_cast<kvm_run*>(
        ::mmap(nullptr, static_cast<std::size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0));
    if (run == MAP_FAILED) fail(kRunMapping);
    kvm_sregs sregs{};
    if (::ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) fail(kRegisters);
    kvm_regs regs{};
    regs.rflags = 0x2;  // bit 1 is reserved-one; interrupts off
    if (mode == 0) {
      sregs.cs.base = 0;
      sregs.cs.selector = 0;
      regs.rip = kRealCodeGpa;
    } else {
      set_long_mode(sregs);
      regs.rip = kLongCodeGpa;
    }
    if (::ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) fail(kRegisters);
    if (::ioctl(vcpu, KVM_SET_REGS, &regs) < 0) fail(kRegisters);

    say(kRunning);  // from here on a silent child means KVM_RUN never came back
    if (::ioctl(vcpu, KVM_RUN, 0) < 0) fail(kRunning);
    r.exit_reason = run->exit_reason;
    if (run->exit_reason == KVM_EXIT_IO) {
      r.port = run->io.port;
      r.value = reinterpret_cast<const std::uint8_t*>(run)[run->io.data_offset];
    }
    const bool port_write = run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
                            run->io.port == kProbePort && run->io.size == 1 && run->io.count == 1 &&
                            r.value == (mode == 0 ? kRealModeValue : kLongModeValue);
    if (!port_write) {
      say(kFirstExit);
      ::_exit(1);
    }
    say(kRunningToHalt);
    timespec t0{}, t1{};
    ::clock_gettime(CLOCK_MONOTONIC, &t0);  // async-signal-safe (vDSO)
    if (::ioctl(vcpu, KVM_RUN, 0) < 0) fail(kRunningToHalt);
    ::clock_gettime(CLOCK_MONOTONIC, &t1);
    if (mode == 1)
      r.loop_ns = static_cast<std::uint64_t>(t1.tv_sec - t0.tv_sec) * 1'000'000'000ull +
                  static_cast<std::uint64_t>(t1.tv_nsec) - static_cast<std::uint64_t>(t0.tv_nsec);
    r.exit_reason = run->exit_reason;
    if (run->exit_reason != KVM_EXIT_HLT) {
      say(kSecondExit);
      ::_exit(1);
    }
  }
  say(kDone);
  ::_exit(0);
}

std::string describe_failure(const Report& r, const std::string& device, long timeout_ms, bool timed_out) {
  const std::string pre = device + " present but cannot run a guest: " +
                          (r.stage >= kCreateVcpu && r.stage < kDone ? (r.mode == 0 ? "real mode: " : "long mode: ") : "");
  if (timed_out) {
    if (r.stage == kRunning)
      return pre + "no exit to user space within " + std::to_string(timeout_ms) + " ms (KVM_RUN never came back)";
    if (r.stage == kRunningToHalt && r.mode == 1)
      return pre + "its " + std::to_string(kLoopInstructions / 1'000'000) + "M-instruction loop did not end within " +
             std::to_string(timeout_ms) + " ms (KVM emulates the guest, slower than TCG)";
    if (r.stage == kRunningToHalt)
      return pre + "the probe guest's halt did not come back within " + std::to_string(timeout_ms) + " ms";
    return pre + "setting up the probe VM took over " + std::to_string(timeout_ms) + " ms (stuck in " +
           stage_call(r.stage + 1) + ")";
  }
  if (r.stage == kFirstExit) {
    std::ostringstream s;
    s << pre << "the probe guest's first exit was " << exit_name(r.exit_reason) << " (reason " << r.exit_reason
      << ")";
    if (r.exit_reason == KVM_EXIT_IO)
      s << " port 0x" << std::hex << r.port << " value 0x" << r.value << std::dec << ", not its write to port 0xe9";
    else
      s << ", not its port write";
    return s.str();
  }
  if (r.stage == kSecondExit)
    return pre + "after the port write the probe guest exited with " + exit_name(r.exit_reason) + " (reason " +
           std::to_string(r.exit_reason) + "), not HLT";
  return pre + stage_call(r.stage) + ": " + std::strerror(r.err);
}

std::string read_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

// Cache file: one line "v1 <boot_id> <device> <verdict> <reason...>".
std::optional<KvmProbeResult> read_cache(const std::filesystem::path& file, const std::string& boot_id,
                                         const std::string& device) {
  std::ifstream in(file);
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  std::istringstream s(line);
  std::string version, id, dev, verdict;
  if (!(s >> version >> id >> dev >> verdict) || version != "v1" || id != boot_id || dev != device)
    return std::nullopt;
  std::string reason;
  std::getline(s >> std::ws, reason);
  KvmProbeResult r;
  if (verdict == "usable") {
    r.verdict = KvmVerdict::kUsable;
  } else if (verdict == "unusable" && !reason.empty()) {
    r.verdict = KvmVerdict::kUnusable;
    r.reason = reason;
  } else {
    return std::nullopt;  // damaged or from another version: probe again
  }
  r.source = "cache";
  return r;
}

void write_cache(const std::filesystem::path& file, const std::string& boot_id, const std::string& device,
                 const KvmProbeResult& r) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  // Write a temporary and rename: concurrent probes (parallel tests) never see half a line.
  const auto tmp = file.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return;  // no cache: the probe simply runs again next time
    out << "v1 " << boot_id << ' ' << device << ' ' << kvm_verdict_name(r.verdict) << ' ' << r.reason << '\n';
    if (!out) return;
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

KvmProbeResult run_probe(const std::string& device, std::chrono::milliseconds timeout) {
  KvmProbeResult result;
  result.source = "probe";
  // Absent is decided in the parent: a missing or forbidden device needs no guest.
  {
    const int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      const int e = errno;
      result.verdict = KvmVerdict::kAbsent;
      result.reason = device + ": " + std::strerror(e);
      if (e == EACCES || e == EPERM) result.reason += " (add the user to the group that owns it, usually kvm)";
      return result;
    }
    ::close(fd);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.verdict = KvmVerdict::kUnusable;
    result.reason = std::string("kvm probe: pipe: ") + std::strerror(errno);
    return result;
  }
  const auto t0 = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    run_probe_guest(device.c_str(), pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    result.verdict = KvmVerdict::kUnusable;
    result.reason = std::string("kvm probe: fork: ") + std::strerror(errno);
    return result;
  }
  Report last;
  bool have_report = false, eof = false;
  const auto deadline = t0 + timeout;
  while (!eof) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{pipe_fds[0], POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    Report r;
    const ssize_t got = ::read(pipe_fds[0], &r, sizeof r);
    if (got == static_cast<ssize_t>(sizeof r)) {
      last = r;
      have_report = true;
    } else if (got == 0 || (got < 0 && errno != EINTR)) {
      eof = true;
    }
  }
  ::close(pipe_fds[0]);
  result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
  // The child is done or stuck in KVM_RUN; SIGKILL ends both. Reap with a bound: a child stuck
  // in the kernel beyond SIGKILL's reach must not stall the caller (it becomes init's).
  ::kill(pid, SIGKILL);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    if (::poll(&p, 1, 1000) > 0) ::waitpid(pid, nullptr, 0);
    ::close(pidfd);
  } else {
    ::waitpid(pid, nullptr, 0);
  }
  if (have_report && last.stage == kDone) {
    const double ips = static_cast<double>(kLoopInstructions) * 1e9 / static_cast<double>(std::max<std::uint64_t>(last.loop_ns, 1));
    result.instructions_per_second = static_cast<std::uint64_t>(ips);
    if (result.instructions_per_second >= kMinInstructionsPerSecond) {
      result.verdict = KvmVerdict::kUsable;
      return result;
    }
    result.verdict = KvmVerdict::kUnusable;
    result.reason = device + " present but too slow to run a guest: " + std::to_string(kLoopInstructions / 1'000'000) +
                    "M guest instructions took " + std::to_string(last.loop_ns / 1000) + " us (" +
                    std::to_string(result.instructions_per_second / 1'000'000) + "M/s; TCG is faster)";
    return result;
  }
  result.verdict = KvmVerdict::kUnusable;
  if (!have_report) last.stage = -1;
  result.reason = describe_failure(last, device, static_cast<long>(timeout.count()), /*timed_out=*/!eof);
  return result;
}

}  // namespace

std::string_view kvm_verdict_name(KvmVerdict verdict) {
  switch (verdict) {
    case KvmVerdict::kUsable: return "usable";
    case KvmVerdict::kAbsent: return "absent";
    case KvmVerdict::kUnusable: return "unusable";
  }
  return "unusable";
}

std::filesystem::path default_kvm_probe_cache() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/')
    return std::filesystem::path(x) / "vitrine" / "kvm-probe";
  if (const char* h = std::getenv("HOME"); h && *h == '/')
    return std::filesystem::path(h) / ".cache" / "vitrine" / "kvm-probe";
  return {};
}

std::optional<KvmProbeResult> parse_forced_kvm_verdict(std::string_view text) {
  KvmProbeResult r;
  r.source = "forced (VITRINE_KVM_PROBE)";
  if (text == "usable") {
    r.verdict = KvmVerdict::kUsable;
    return r;
  }
  if (text == "absent") {
    r.verdict = KvmVerdict::kAbsent;
    r.reason = "KVM forced absent (VITRINE_KVM_PROBE=absent)";
    return r;
  }
  if (text == "unusable" || text.starts_with("unusable:")) {
    r.verdict = KvmVerdict::kUnusable;
    const auto why = text.size() > 9 ? text.substr(9) : std::string_view("forced by VITRINE_KVM_PROBE");
    r.reason = "/dev/kvm present but cannot run a guest: " + std::string(why);
    return r;
  }
  return std::nullopt;
}

KvmProbeResult probe_kvm(const KvmProbeOptions& options) {
  std::optional<std::string> forced = options.forced;
  if (!forced && options.honour_env)
    if (const char* e = std::getenv("VITRINE_KVM_PROBE"); e && *e) forced = e;
  if (forced) {
    if (auto r = parse_forced_kvm_verdict(*forced)) return *r;
    KvmProbeResult bad;
    bad.verdict = KvmVerdict::kUnusable;
    bad.source = "forced (VITRINE_KVM_PROBE)";
    bad.reason = "VITRINE_KVM_PROBE=\"" + *forced + "\" is not usable, absent or unusable[:REASON]";
    return bad;
  }
  const std::filesystem::path cache =
      options.cache_file == "-" ? std::filesystem::path() : options.cache_file.empty() ? default_kvm_probe_cache()
                                                                                      : options.cache_file;
  const std::string boot_id = read_boot_id();
  if (!cache.empty() && !boot_id.empty() && ::access(options.device.c_str(), F_OK) == 0) {
    if (auto r = read_cache(cache, boot_id, options.device)) return *r;
  }
  KvmProbeResult r = run_probe(options.device, options.timeout);
  // A failure of the probe's own plumbing (pipe, fork) says nothing about KVM: not cached.
  const bool about_kvm = r.verdict != KvmVerdict::kAbsent && !r.reason.starts_with("kvm probe:");
  if (about_kvm && !cache.empty() && !boot_id.empty())
    write_cache(cache, boot_id, options.device, r);
  return r;
}

}  // namespace vitrine::hv
