#include "vitrine/hv/vmm_lockdown.hpp"

#include <seccomp.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace vitrine::hv {
namespace {

constexpr int kDenied[] = {
    // Reaching into other processes.
    SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev), SCMP_SYS(kcmp),
    SCMP_SYS(pidfd_getfd),
    // The host's mounts and root (the sandbox's pid 1, spawned before the lock-down, does its
    // own mounts in its own namespaces).
    SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot), SCMP_SYS(fsopen),
    SCMP_SYS(fsmount), SCMP_SYS(move_mount), SCMP_SYS(open_tree), SCMP_SYS(open_by_handle_at),
    // Kernel code, BPF, tracing, keyrings, page-fault handling from user space.
    SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(kexec_load),
    SCMP_SYS(kexec_file_load), SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(add_key),
    SCMP_SYS(request_key), SCMP_SYS(keyctl), SCMP_SYS(userfaultfd), SCMP_SYS(iopl), SCMP_SYS(ioperm),
    // Whole-machine state.
    SCMP_SYS(reboot), SCMP_SYS(swapon), SCMP_SYS(swapoff), SCMP_SYS(acct), SCMP_SYS(settimeofday),
    SCMP_SYS(clock_settime), SCMP_SYS(clock_adjtime), SCMP_SYS(adjtimex), SCMP_SYS(syslog),
    SCMP_SYS(quotactl), SCMP_SYS(sethostname), SCMP_SYS(setdomainname), SCMP_SYS(personality),
};

struct FilterDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

Error seccomp_error(const std::string& what, int rc) {
  return Error{Errc::kSystem, -rc, "seccomp " + what + ": " + std::strerror(-rc)};
}

}  // namespace

Result<void> lock_down_vmm() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return std::unexpected(Error::sys("prctl no_new_privs", errno));
  std::unique_ptr<void, FilterDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return std::unexpected(Error{Errc::kSystem, 0, "seccomp_init failed"});
  for (int nr : kDenied) {
    if (const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_KILL_PROCESS, nr, 0); rc != 0)
      return std::unexpected(seccomp_error("deny " + std::to_string(nr), rc));
  }
  if (const int rc = seccomp_load(ctx.get()); rc != 0) return std::unexpected(seccomp_error("load", rc));
  return {};
}

}  // namespace vitrine::hv
