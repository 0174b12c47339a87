#include "vitrine/hv/kvm/jail.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fmt/format.h>
#include <memory>

namespace vitrine::hv::kvm {
namespace {

// System calls a running VM makes. Found by reading the run-time code (vCPU threads, device
// models, console log, stop signals) and checked by running guests under the filter
// (tests/hv/kvm nested run); a missing one shows as SIGSYS with the number in the kernel log.
constexpr std::array kAllowed = {
    // I/O on fds the VM already holds: the console log, the bus doorbell eventfds, stdout.
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
    SCMP_SYS(pwrite64), SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek),
    SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(fcntl),
    // The console log rotates between its two files, opened before the jail: a copy and a
    // truncate, never an open or a rename (nothing here opens a path).
    SCMP_SYS(ftruncate), SCMP_SYS(copy_file_range),
    // Memory: malloc, thread stacks, the guest RAM is mapped before.
    SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(madvise), SCMP_SYS(brk),
    SCMP_SYS(mremap),
    // Threads and their synchronization (clone is checked for CLONE_THREAD below).
    SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity), SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(exit), SCMP_SYS(exit_group),
    // Signals: vCPU kicks (tgkill), SIGTERM/SIGINT via sigwait, the crash handler.
    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(sigaltstack), SCMP_SYS(tgkill), SCMP_SYS(restart_syscall),
    // Time: watchdogs and the console's pacing (vDSO first; these are the fallbacks).
    SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(getrandom),
};

// The KVM ioctls issued after the VM is built: the vCPU loop, interrupts, and the ivshmem
// device remapping its BARs (memory slot, doorbell ioeventfd, interrupt irqfd) when the guest
// programs them. Creating VMs, vCPUs or devices is not among them.
constexpr std::array<unsigned long, 5> kKvmIoctls = {
    KVM_RUN, KVM_IRQ_LINE, KVM_IRQFD, KVM_IOEVENTFD, KVM_SET_USER_MEMORY_REGION,
};

// A rule with one argument check, "(argument & mask) == value", through libseccomp's array form
// (its SCMP_A* macros are C compound literals, which C++ compilers reject or warn about).
int add_masked_rule(scmp_filter_ctx ctx, std::uint32_t action, int syscall, unsigned arg, scmp_datum_t mask,
                    scmp_datum_t value) {
  const scmp_arg_cmp cmp{arg, SCMP_CMP_MASKED_EQ, mask, value};
  return seccomp_rule_add_array(ctx, action, syscall, 1, &cmp);
}

struct FilterDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

Error seccomp_error(const char* what, int rc) {
  return Error{Errc::kSystem, -rc, fmt::format("seccomp {}: {}", what, std::strerror(-rc))};
}

bool write_file(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

// Root of the mount namespace becomes an empty tmpfs, read-only: bubblewrap's way (mount the
// new root on a directory that exists, pivot_root into it, detach the old root).
std::string pivot_to_empty_root() {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return fmt::format("make / private: {}", std::strerror(errno));
  const char* base = "/tmp";
  struct stat st {};
  if (::stat(base, &st) != 0 || !S_ISDIR(st.st_mode)) base = "/dev";  // initramfs without /tmp
  if (::mount("vitrine-kvm-root", base, "tmpfs", MS_NODEV | MS_NOSUID | MS_NOEXEC, "size=16k,mode=0755") != 0)
    return fmt::format("tmpfs on {}: {}", base, std::strerror(errno));
  if (::chdir(base) != 0) return fmt::format("chdir {}: {}", base, std::strerror(errno));
  if (::mkdir("old", 0700) != 0) return fmt::format("mkdir old root: {}", std::strerror(errno));
  if (::syscall(SYS_pivot_root, ".", "old") == 0) {
    if (::chdir("/") != 0) return fmt::format("chdir /: {}", std::strerror(errno));
    if (::umount2("/old", MNT_DETACH) != 0) return fmt::format("detach old root: {}", std::strerror(errno));
    if (::rmdir("/old") != 0) return fmt::format("rmdir old root: {}", std::strerror(errno));
  } else if (errno == EINVAL) {
    // The root is the initramfs (rootfs), which pivot_root cannot move: switch_root's way
    // instead, the tmpfs moved over "/" and made the root by chroot. The old root stays below,
    // unreachable by path; the seccomp filter allows neither chroot nor fchdir to climb out.
    if (::rmdir("old") != 0) return fmt::format("rmdir old: {}", std::strerror(errno));
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) return fmt::format("move root: {}", std::strerror(errno));
    if (::chroot(".") != 0) return fmt::format("chroot: {}", std::strerror(errno));
    if (::chdir("/") != 0) return fmt::format("chdir /: {}", std::strerror(errno));
  } else {
    return fmt::format("pivot_root: {}", std::strerror(errno));
  }
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_BIND | MS_NODEV | MS_NOSUID | MS_NOEXEC,
              nullptr) != 0)
    return fmt::format("remount root read-only: {}", std::strerror(errno));
  return {};
}

void enter_namespaces(JailReport& report) {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) != 0) {
    // Without a user namespace a root process could still take the others, but then it keeps
    // its host capabilities, which is what this step removes: skip them together.
    report.skipped = fmt::format("user/mount/net namespaces: unshare: {}", std::strerror(errno));
    return;
  }
  report.user_ns = report.net_ns = true;
  // Map ourselves to root inside (needed to mount there); setgroups must be denied first.
  if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", fmt::format("0 {} 1", uid)) ||
      !write_file("/proc/self/gid_map", fmt::format("0 {} 1", gid))) {
    report.skipped = fmt::format("mount namespace: id maps: {}", std::strerror(errno));
    return;
  }
  if (auto why = pivot_to_empty_root(); !why.empty()) {
    report.skipped = "mount namespace: " + why;
    return;
  }
  report.mount_ns = true;
}

}  // namespace

std::string JailReport::to_string() const {
  auto yes = [](bool b) { return b ? "on" : "off"; };
  std::string s = fmt::format("jail: no_new_privs {}, user ns {}, net ns {}, empty root {}, seccomp {}",
                              yes(no_new_privs), yes(user_ns), yes(net_ns), yes(mount_ns), yes(seccomp));
  if (!skipped.empty()) s += " (" + skipped + ")";
  return s;
}

// A refused call raises SIGSYS in the calling thread (SCMP_ACT_TRAP rather than KILL, so the
// number reaches the VMM log); the handler says which call and then dies of SIGSYS all the same.
void on_refused_call(int, siginfo_t* info, void*) {
  char line[96];
  const int n = std::snprintf(line, sizeof line, "vitrine-kvm: seccomp refused system call %d: stopping\n",
                              info != nullptr ? info->si_syscall : -1);
  if (n > 0) (void)!::write(STDERR_FILENO, line, static_cast<std::size_t>(n));
  ::raise(SIGSYS);  // SA_RESETHAND: the default action now, which ends the process
}

Result<void> install_vmm_seccomp_filter() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return std::unexpected(sys_error("prctl no_new_privs"));
  struct sigaction sa {};
  sa.sa_sigaction = on_refused_call;
  sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGSYS, &sa, nullptr) != 0) return std::unexpected(sys_error("sigaction SIGSYS"));
  Filter ctx(seccomp_init(SCMP_ACT_TRAP));
  if (!ctx) return std::unexpected(Error{Errc::kSystem, 0, "seccomp_init failed"});
  for (int nr : kAllowed) {
    if (const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0); rc != 0)
      return std::unexpected(seccomp_error("allow", rc));
  }
  // The request is an int in the kernel's ioctl path: compare the low 32 bits only, so a
  // sign-extended value from a caller cannot slip past (or be wrongly refused).
  for (unsigned long request : kKvmIoctls) {
    if (const int rc = add_masked_rule(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, 0xffffffffUL, request);
        rc != 0)
      return std::unexpected(seccomp_error("allow ioctl", rc));
  }
  // isatty() on stdout (stdio's first write) asks TCGETS: "not a terminal" is a fine answer.
  if (const int rc = add_masked_rule(ctx.get(), SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1, 0xffffffffUL, TCGETS);
      rc != 0)
    return std::unexpected(seccomp_error("tcgets", rc));
  // Threads only: clone without CLONE_THREAD would be a new process. clone3 hides its flags in
  // memory that seccomp cannot read, so it answers ENOSYS and glibc falls back to clone.
  if (const int rc = add_masked_rule(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(clone), 0, CLONE_THREAD, CLONE_THREAD);
      rc != 0)
    return std::unexpected(seccomp_error("clone", rc));
  if (const int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0); rc != 0)
    return std::unexpected(seccomp_error("clone3", rc));
  if (const int rc = seccomp_load(ctx.get()); rc != 0) return std::unexpected(seccomp_error("load", rc));
  return {};
}

Result<JailReport> enter_jail(const JailOptions& options) {
  JailReport report;
  // The CMOS clock converts the time with gmtime_r, and glibc reads the zone file (/etc/localtime,
  // for its leap-second data) on the first conversion: inside the jail that open is refused and
  // kills the VM (found by the nested test at the guest's first RTC read). Load it now.
  ::tzset();
  if (options.namespaces) enter_namespaces(report);
  else report.skipped = "namespaces: off (--no-sandbox)";
  if (!options.seccomp) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return std::unexpected(sys_error("prctl no_new_privs"));
    report.no_new_privs = true;
    return report;
  }
  if (auto r = install_vmm_seccomp_filter(); !r) return std::unexpected(r.error());
  report.no_new_privs = report.seccomp = true;
  return report;
}

}  // namespace vitrine::hv::kvm
