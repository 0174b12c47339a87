// vitrine-kvm: Vitrine's own minimal VMM as a program (the `kvm` backend of vitrine-vmm runs
// it as a child). Boots a bzImage + initramfs with a serial console and, with --bus-file or
// --bus-fd, the bus as an ivshmem-compatible PCI device.
//
// Exit status: 0 the guest powered off or reset (or SIGTERM/SIGINT stopped it), 1 setup
// failed (or the KVM probe says this /dev/kvm cannot run guests), 3 triple fault, 4 other guest
// error, 5 host error while running, 6 no progress (progress watchdog).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <execinfo.h>

#include <CLI/CLI.hpp>
#include <bit>
#include <csignal>
#include <cstdio>
#include <fmt/format.h>
#include <string>
#include <thread>

#include "vitrine/base/log.hpp"
#include "vitrine/hv/kvm/console_log.hpp"
#include "vitrine/hv/kvm/jail.hpp"
#include "vitrine/hv/kvm/kvm_vm.hpp"
#include "vitrine/hv/kvm_probe.hpp"

namespace {

using namespace vitrine::hv::kvm;

struct Mapping {
  void* base = MAP_FAILED;
  std::size_t size = 0;
  ~Mapping() {
    if (base != MAP_FAILED) ::munmap(base, size);
  }
};

Result<void> map_bus(int fd, const std::string& what, Mapping& out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::unexpected(sys_error("fstat " + what));
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < 4096 || !std::has_single_bit(size)) {
    return std::unexpected(invalid(fmt::format("bus {}: size {} is not a power of two >= 4096", what, size)));
  }
  out.base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (out.base == MAP_FAILED) return std::unexpected(sys_error("mmap bus " + what));
  out.size = size;
  return {};
}

// A crash of the VMM itself (a bug, never the guest's doing) leaves raw return addresses on
// stderr; `addr2line -e vitrine-kvm ADDR...` turns them into lines (the program is static).
void on_crash(int sig) {
  void* frames[48];
  const int n = ::backtrace(frames, 48);
  const char head[] = "vitrine-kvm: crashed; backtrace:\n";
  (void)!::write(STDERR_FILENO, head, sizeof head - 1);
  ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

int main(int argc, char** argv) {
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE}) ::signal(sig, on_crash);
  vitrine::base::set_program_name("vitrine-kvm");
  CLI::App app{"vitrine-kvm: Vitrine's minimal KVM VMM (bzImage, serial console, ivshmem bus device)"};
  KvmVmConfig config;
  unsigned mem_mib = 256;
  std::string bus_file, console_log;
  int bus_fd = -1;
  app.add_option("--kernel", config.kernel_path, "bzImage to boot")->required();
  app.add_option("--initrd", config.initrd_path, "initramfs");
  app.add_option("--cmdline", config.cmdline, "kernel command line")->capture_default_str();
  app.add_option("--mem", mem_mib, "guest RAM in MiB")->capture_default_str();
  app.add_option("--cpus", config.vcpus, "vCPUs")->capture_default_str();
  app.add_option("--bus-file", bus_file, "file whose whole contents become the bus (ivshmem BAR2), e.g. /dev/shm/NAME "
                                         "or /sys/bus/pci/devices/ADDR/resource2");
  app.add_option("--bus-fd", bus_fd, "inherited fd of the bus memory (memfd)");
  app.add_option("--doorbell-to-host-fd", config.doorbell_to_host_fd, "eventfd the guest's Doorbell writes signal");
  app.add_option("--doorbell-to-guest-fd", config.doorbell_to_guest_fd, "eventfd that interrupts the guest");
  app.add_option("--console-log", console_log,
                 "write the guest console here (mode 0600, control characters escaped) instead of stdout");
  std::uint64_t console_log_max = ConsoleLog::kDefaultMaxBytes;
  app.add_option("--console-log-max-bytes", console_log_max,
                 "cap of the console log: past it FILE becomes FILE.1 (one old file kept) and FILE starts over")
      ->capture_default_str()
      ->check(CLI::Range(ConsoleLog::kMinMaxBytes, std::uint64_t{1} << 50));
  app.add_option("--kvm-device", config.kvm_device, "KVM device node")->capture_default_str();
  double progress_timeout_s = 60;
  app.add_option("--progress-timeout", progress_timeout_s,
                 "end the VM with an error when it makes no exit to user space and writes no console byte within "
                 "this many seconds of start (0: never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  bool no_probe = false;
  app.add_flag("--no-probe", no_probe, "skip the KVM usability probe (a tiny guest run first, cached per boot)");
  bool no_acpi = false;
  app.add_flag("--no-acpi", no_acpi, "no ACPI tables (MP table only; poweroff -f then only halts the guest)");
  bool no_sandbox = false;
  app.add_flag("--no-sandbox", no_sandbox,
               "no namespaces and no seccomp filter once the VM is built (no_new_privs stays): for debugging the "
               "VMM with strace or gdb");
  CLI11_PARSE(app, argc, argv);
  config.ram_bytes = std::uint64_t{mem_mib} << 20;
  config.acpi = !no_acpi;
  config.progress_timeout = std::chrono::milliseconds(static_cast<long long>(progress_timeout_s * 1000));

  if (!no_probe) {
    vitrine::hv::KvmProbeOptions probe_options;
    probe_options.device = config.kvm_device;
    const auto probe = vitrine::hv::probe_kvm(probe_options);
    if (!probe.usable()) {
      vitrine::base::log_error("{} [kvm probe, {}]", probe.reason, probe.source);
      return 1;
    }
  }

  // A console reader that went away (a closed stdout pipe) drops lines instead of killing the VM.
  ::signal(SIGPIPE, SIG_IGN);
  auto console_opened = console_log.empty() ? Result<ConsoleLog>(ConsoleLog::borrow(STDOUT_FILENO))
                                            : ConsoleLog::open(console_log, console_log_max);
  if (!console_opened) {
    vitrine::base::log_error("{}", to_string(console_opened.error()));
    return 1;
  }
  ConsoleLog& console = *console_opened;  // outlives the VM, whose UART calls put()
  config.console = [&console](std::uint8_t b) { console.put(b); };

  Mapping bus;
  if (!bus_file.empty() || bus_fd >= 0) {
    if (!bus_file.empty() && bus_fd >= 0) {
      vitrine::base::log_error("give --bus-file or --bus-fd, not both");
      return 1;
    }
    int fd = bus_fd;
    if (!bus_file.empty()) {
      fd = ::open(bus_file.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) {
        vitrine::base::log_error("open bus {}: {}", bus_file, std::strerror(errno));
        return 1;
      }
    }
    auto r = map_bus(fd, bus_file.empty() ? fmt::format("fd {}", fd) : bus_file, bus);
    ::close(fd);  // the mapping keeps the memory
    if (!r) {
      vitrine::base::log_error("{}", r.error().message);
      return 1;
    }
    config.bus_memory = {static_cast<std::byte*>(bus.base), bus.size};
  }

  // SIGTERM / SIGINT stop the VM: blocked here (inherited by every thread), taken by sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto vm = KvmVm::create(config);
  if (!vm) {
    vitrine::base::log_error("{}", to_string(vm.error()));
    return 1;
  }
  KvmVm* raw = vm->get();

  // Everything the VM needs is open: drop the environment (DISPLAY, XAUTHORITY, SSH_AUTH_SOCK
  // would tell an exploited device model where to go) and enter the jail before any thread
  // starts (a user namespace needs a single-threaded process).
  ::clearenv();
  auto jail = enter_jail(JailOptions{.namespaces = !no_sandbox, .seccomp = !no_sandbox});
  if (!jail) {
    vitrine::base::log_error("{}", to_string(jail.error()));
    return 1;
  }
  vitrine::base::log_info("{}", jail->to_string());
  std::thread([raw, stop_signals] {
    int sig = 0;
    if (::sigwait(&stop_signals, &sig) == 0) raw->stop();
  }).detach();  // lives until the process exits; run() does not depend on it

  const VmResult result = raw->run();
  console.flush();
  // Before "VM ended": the kvm backend reports vitrine-kvm's last log line.
  if (console.lines_dropped() != 0 || console.rotations() != 0 || raw->console().rx_overruns() != 0) {
    vitrine::base::log_warn("console: {} lines dropped, {} log rotations, {} loopback bytes overrun",
                            console.lines_dropped(), console.rotations(), raw->console().rx_overruns());
  }
  // The kvm backend of vitrine-vmm reads this last line ("VM ended: reset" or not).
  vitrine::base::log_info("VM ended: {} ({}); {} exits to user space, {} unknown accesses",
                          vm_end_name(result.end), result.detail, result.exits, result.unknown_accesses);
  switch (result.end) {
    case VmEnd::kPowerOff: case VmEnd::kReset: case VmEnd::kStopped: return 0;
    case VmEnd::kTripleFault: return 3;
    case VmEnd::kGuestError: return 4;
    case VmEnd::kHostError: return 5;
    case VmEnd::kNoProgress: return 6;
  }
  return 5;
}
