// The KVM usability probe, shared by the qemu and kvm backends: is there a /dev/kvm that can
// actually run a guest?
//
// Opening /dev/kvm proves nothing. Some hosts (nested virtualization in cloud VMs and CI
// runners, a paravirtual `kvm-pvm` host kernel) expose a /dev/kvm that opens read-write and
// creates VMs, but never runs an ordinary guest: QEMU aborts on an MSR it refuses, or KVM_RUN
// simply never comes back. So the probe runs a guest: a VM with one vCPU and one page of
// code that writes a known byte to an I/O port and halts, once in real mode and once in long
// mode with paging (with a timed 2M-instruction loop before the halt). The verdict is "usable"
// only if KVM_RUN comes back to user space with exactly those port writes and halts within
// `timeout`, and the loop ran at 20M instructions/s or more: a KVM that emulates guests more
// slowly than QEMU's TCG would is no better than none.
//
// The guest runs in a forked child (only raw syscalls between fork and _exit), so a KVM_RUN
// that never returns costs the caller `timeout` and a SIGKILL, never a stuck thread.
//
// The verdict of a real run is cached per host boot (keyed by /proc/sys/kernel/random/boot_id
// and the device path) in $XDG_CACHE_HOME/vitrine/kvm-probe (or ~/.cache/...): the probe costs
// once per boot, not per VM. A missing device is never cached (checking it is one open()).
//
// VITRINE_KVM_PROBE forces a verdict (tests of each branch; users who know better):
//   usable | absent | unusable[:REASON]
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace vitrine::hv {

enum class KvmVerdict : std::uint8_t {
  kUsable,    // a guest ran: its port write and halt came back to user space in time
  kAbsent,    // no device, or it cannot be opened (permissions)
  kUnusable,  // the device opens, but a guest does not run (see reason)
};

std::string_view kvm_verdict_name(KvmVerdict verdict);  // "usable" / "absent" / "unusable"

struct KvmProbeResult {
  KvmVerdict verdict = KvmVerdict::kAbsent;
  // Empty when usable; otherwise one line, e.g. "/dev/kvm: No such file or directory" or
  // "/dev/kvm present but cannot run a guest: no exit to user space within 1000 ms".
  std::string reason;
  // Where the verdict came from: "probe", "cache" or "forced (VITRINE_KVM_PROBE)".
  std::string source;
  std::chrono::microseconds elapsed{0};  // time the real probe took (0 when cached/forced)
  // Guest speed measured by the probe's timed loop (0 when it did not finish, cached or forced).
  std::uint64_t instructions_per_second = 0;
  bool usable() const { return verdict == KvmVerdict::kUsable; }
};

struct KvmProbeOptions {
  std::string device = "/dev/kvm";
  // How long the tiny guest may take to come back. Generous because the probe also runs two
  // levels down (KVM inside a QEMU TCG guest), where creating a VM and one exit cost ms.
  std::chrono::milliseconds timeout{1000};
  // Cache file; empty = the default path; "-" = no cache (neither read nor written).
  std::filesystem::path cache_file;
  // A forced verdict (the same syntax as VITRINE_KVM_PROBE); takes precedence over the env.
  std::optional<std::string> forced;
  // Reads VITRINE_KVM_PROBE when `forced` is empty.
  bool honour_env = true;
};

// Never fails: every problem is a verdict with its reason. Thread-safe; may take `timeout`.
KvmProbeResult probe_kvm(const KvmProbeOptions& options = {});

// The default cache file ($XDG_CACHE_HOME/vitrine/kvm-probe, else $HOME/.cache/vitrine/kvm-probe;
// empty when neither is set).
std::filesystem::path default_kvm_probe_cache();

// Parses a forced verdict ("usable", "absent", "unusable", "unusable:REASON"); nullopt when the
// text is none of them.
std::optional<KvmProbeResult> parse_forced_kvm_verdict(std::string_view text);

}  // namespace vitrine::hv
