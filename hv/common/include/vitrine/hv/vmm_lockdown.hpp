// What vitrine-vmm gives up once its VM runs. The vmm holds the bus, spawns and watches the
// VM's processes and talks to vitrine over one socket; after start-up it still forks and execs
// (QEMU's restart under TCG), so an allow-list would be as wide as glibc. Instead it denies the
// calls that turn a compromised vmm into a host compromise and that it never makes: debugging
// other processes (ptrace, process_vm_*), changing mounts, loading kernel code or BPF,
// keyrings, userfaultfd, perf, clock and reboot control. A denied call kills the process
// (SIGSYS): such a call can only come from code that is not ours. Children spawned after the
// lock-down inherit it (and no_new_privs), which is what a guest's emulator should get too.
#pragma once

#include "vitrine/hv/error.hpp"

namespace vitrine::hv {

// no_new_privs + the deny-list filter. Idempotent enough to call once per process.
Result<void> lock_down_vmm();

}  // namespace vitrine::hv
