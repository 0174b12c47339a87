// The jail vitrine-kvm enters once the VM is built and before any thread starts, in the way
// Firecracker's jailer confines its VMM: the guest drives this process's device models, so a
// bug there must not reach the host beyond what a running VM needs.
//
//  1. no_new_privs: nothing this process executes can gain privileges (also required for an
//     unprivileged seccomp filter).
//  2. New user, mount and network namespaces where the host allows them (unprivileged user
//     namespaces may be off, a container may deny unshare): the process keeps no capability in
//     the host's namespaces, sees no network, and its root becomes an empty read-only tmpfs, so
//     no path of the host file system can be opened any more. Every file the VM needs is open
//     before (the KVM fds, the bus mapping, both console log files).
//  3. A seccomp allow-list: the system calls a running VM makes (KVM_RUN and the few KVM ioctls
//     the devices issue at run time, I/O on fds it holds, memory, futexes, signals, threads);
//     anything else kills the process (SIGSYS, after a line naming the call), so an exploited device model cannot open a
//     socket, exec a program or ptrace a neighbour.
//
// Each step that the host refuses is reported, not fatal, except seccomp and no_new_privs,
// which every supported kernel has: failing those is an error (run with --no-sandbox to debug).
#pragma once

#include <string>

#include "vitrine/hv/kvm/error.hpp"

namespace vitrine::hv::kvm {

struct JailOptions {
  bool namespaces = true;  // user + mount + net namespaces, pivot to an empty root
  bool seccomp = true;     // the allow-list filter (with no_new_privs)
};

struct JailReport {
  bool no_new_privs = false;
  bool user_ns = false;
  bool net_ns = false;
  bool mount_ns = false;  // also: the root is an empty read-only tmpfs
  bool seccomp = false;
  std::string skipped;  // why a namespace step did not happen ("" when all did)

  std::string to_string() const;  // one line for the VMM log
};

// Must run while the process has exactly one thread (unshare(CLONE_NEWUSER) refuses otherwise).
Result<JailReport> enter_jail(const JailOptions& options);

// The seccomp allow-list alone (no_new_privs included), for tests: a forked child installs it
// and then makes a forbidden call.
Result<void> install_vmm_seccomp_filter();

}  // namespace vitrine::hv::kvm
