// vitrine-kvm's jail: the seccomp allow-list kills what a running VM never calls and lets
// through what it does; the namespaces leave no host path or network; the console log still
// rotates inside the jail. Each case runs in a forked child (a filter cannot be removed).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../common/fork_child.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "vitrine/hv/kvm/console_log.hpp"
#include "vitrine/hv/kvm/jail.hpp"

namespace vitrine::hv::kvm {
namespace {

using test::describe;
using test::run_in_child;
using test::killed_by_sigsys;

// Whether this host lets a process take new user/mount/net namespaces (containers often do not).
bool namespaces_allowed(std::string& why) {
  const int status = run_in_child([] {
    auto r = enter_jail(JailOptions{.namespaces = true, .seccomp = false});
    return r && r->mount_ns ? 0 : 1;
  });
  why = "this host refuses new user/mount/net namespaces (unshare or the id maps): " + describe(status);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(KvmJail, aForbiddenCallKillsTheProcess) {
  const int socket_status = run_in_child([] {
    if (!install_vmm_seccomp_filter()) return 2;
    (void)::socket(AF_INET, SOCK_STREAM, 0);
    return 0;
  });
  EXPECT_TRUE(killed_by_sigsys(socket_status)) << describe(socket_status);
  const int exec_status = run_in_child([] {
    if (!install_vmm_seccomp_filter()) return 2;
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    ::execv("/bin/true", argv);
    return 0;
  });
  EXPECT_TRUE(killed_by_sigsys(exec_status)) << describe(exec_status);
  // fork is clone without CLONE_THREAD: a new process, which a VMM never makes.
  const int fork_status = run_in_child([] {
    if (!install_vmm_seccomp_filter()) return 2;
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    return 0;
  });
  EXPECT_TRUE(killed_by_sigsys(fork_status)) << describe(fork_status);
  // An ioctl that is not one of the run-time KVM ones (here: FIONREAD on a pipe).
  const int ioctl_status = run_in_child([] {
    int p[2];
    if (::pipe(p) != 0) return 3;
    if (!install_vmm_seccomp_filter()) return 2;
    int n = 0;
    (void)::ioctl(p[0], FIONREAD, &n);
    return 0;
  });
  EXPECT_TRUE(killed_by_sigsys(ioctl_status)) << describe(ioctl_status);
}

TEST(KvmJail, whatARunningVmDoesStillWorks) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizer runtimes make system calls of their own when threads start (pipe2 under ASan)
  // that no VM makes: the allow-list is checked by the release build of this test and by the
  // nested KVM run, where the whole VM runs under it.
  GTEST_SKIP() << "sanitizer runtime: its own system calls are outside vitrine-kvm's allow-list";
#endif
  const int status = run_in_child([] {
    int p[2];
    if (::pipe(p) != 0) return 3;
    if (!install_vmm_seccomp_filter()) return 2;
    // vCPU-like threads writing to an fd opened before, memory, time, signals to a thread.
    std::vector<char> big(8 << 20, 'x');
    std::atomic<int> done{0};
    std::thread worker([&] {
      for (int i = 0; i < 100; ++i) (void)!::write(p[1], big.data() + i, 1);
      done = 1;
    });
    char buf[100];
    std::size_t got = 0;
    while (got < sizeof buf) {
      const ssize_t n = ::read(p[0], buf + got, sizeof buf - got);
      if (n <= 0) return 4;
      got += static_cast<std::size_t>(n);
    }
    worker.join();
    timespec ts{0, 1000000};
    ::nanosleep(&ts, nullptr);
    ::signal(SIGUSR1, SIG_IGN);
    std::thread([] { ::raise(SIGUSR1); }).join();
    return done == 1 ? 0 : 5;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

TEST(KvmJail, noHostPathAndNoNetworkInside) {
  std::string why;
  if (!namespaces_allowed(why)) GTEST_SKIP() << why;
  const int status = run_in_child([] {
    auto r = enter_jail(JailOptions{.namespaces = true, .seccomp = false});
    if (!r || !r->user_ns || !r->net_ns || !r->mount_ns || !r->no_new_privs) return 2;
    struct stat st {};
    if (::stat("/etc/passwd", &st) == 0 || ::stat("/dev/kvm", &st) == 0 || ::stat("/proc/self", &st) == 0) return 3;
    if (::mkdir("/x", 0700) == 0) return 4;  // the empty root is read-only
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return 5;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(22);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // A new network namespace has only a loopback that is down: nothing of the host's reachable.
    const bool refused = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == ENETUNREACH;
    return refused ? 0 : 6;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status);
}

TEST(KvmJail, theConsoleLogRotatesInsideTheJail) {
  const auto dir = std::filesystem::temp_directory_path() / ("vitrine-jail-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "serial.log").string();
  std::string why;
  const bool full = namespaces_allowed(why);
  const int status = run_in_child([&] {
    auto log = ConsoleLog::open(path, ConsoleLog::kMinMaxBytes);
    if (!log) return 2;
    if (!enter_jail(JailOptions{.namespaces = full, .seccomp = true})) return 3;
    for (int line = 0; line < 200; ++line) {
      for (char c : std::string("guest console line, long enough to rotate\n")) log->put(static_cast<std::uint8_t>(c));
    }
    log->flush();
    return log->rotations() > 0 && log->lines_dropped() == 0 ? 0 : 4;
  });
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status) << (full ? "" : " (" + why + ")");
  EXPECT_TRUE(std::filesystem::exists(path + ".1"));
  EXPECT_LE(std::filesystem::file_size(path), ConsoleLog::kMinMaxBytes);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vitrine::hv::kvm
