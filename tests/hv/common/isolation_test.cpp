// vitrine-vmm's lock-down after start-up and the cleared environment of the VM's processes.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fork_child.hpp"

#include <cstdlib>
#include <string>

#include "vitrine/hv/child_process.hpp"
#include "vitrine/hv/vmm_lockdown.hpp"

namespace vitrine::hv {
namespace {

using test::describe;
using test::run_in_child;

TEST(VmmLockDown, deniedCallsKillTheVmm) {
  const int ptrace_status = run_in_child([] {
    if (!lock_down_vmm()) return 2;
    (void)::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    return 0;
  });
  EXPECT_TRUE(WIFSIGNALED(ptrace_status) && WTERMSIG(ptrace_status) == SIGSYS) << describe(ptrace_status);
  const int mount_status = run_in_child([] {
    if (!lock_down_vmm()) return 2;
    (void)::mount("none", "/mnt", "tmpfs", 0, nullptr);
    return 0;
  });
  EXPECT_TRUE(WIFSIGNALED(mount_status) && WTERMSIG(mount_status) == SIGSYS) << describe(mount_status);
}

TEST(VmmLockDown, theVmmStillSpawnsAndReapsItsVmProcesses) {
  // QEMU's restart under TCG happens after the lock-down: spawning must keep working.
  const int status = run_in_child([] {
    if (!lock_down_vmm()) return 2;
    SpawnOptions o;
    o.argv = {"/bin/sh", "-c", "exit 7"};
    auto child = ChildProcess::spawn(o);
    if (!child) return 3;
    auto st = child->wait_for(std::chrono::seconds(10));
    return st && *st && !(*st)->signaled && (*st)->code == 7 ? 0 : 4;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

TEST(SpawnEnvironment, aClearedEnvironmentKeepsOnlyWhatWasNamed) {
  ::setenv("DISPLAY", ":42", 1);
  ::setenv("SSH_AUTH_SOCK", "/tmp/agent", 1);
  ::setenv("HOME", "/home/someone", 1);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  SpawnOptions o;
  o.argv = {"/usr/bin/env"};
  o.clear_env = true;
  o.env_keep = {"HOME"};
  o.env_add = {"VITRINE_TEST=1"};
  o.stdout_fd = p[1];
  auto child = ChildProcess::spawn(o);
  ::close(p[1]);
  ASSERT_TRUE(child) << to_string(child.error());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(p[0]);
  (void)child->wait_for(std::chrono::seconds(10));
  EXPECT_EQ(out, "HOME=/home/someone\nVITRINE_TEST=1\n");
  ::unsetenv("DISPLAY");
  ::unsetenv("SSH_AUTH_SOCK");
}

}  // namespace
}  // namespace vitrine::hv
