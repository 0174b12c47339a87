#include "vitrine/hv/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace vitrine::hv {
namespace {

ExitStatus from_siginfo(const siginfo_t& info) {
  ExitStatus s;
  if (info.si_code == CLD_EXITED) {
    s.code = info.si_status;
  } else {
    s.signaled = true;
    s.code = info.si_status;
  }
  return s;
}

// Only async-signal-safe calls from here to execve.
[[noreturn]] void child_exec(const SpawnOptions& o, char* const* argv, char* const* envp,
                             const char* path_lookup, pid_t parent, int devnull, int hold, int hold_write) {
  if (hold_write >= 0) ::close(hold_write);  // or our read below never sees the parent's EOF
  if (o.parent_death_signal != 0) {
    ::prctl(PR_SET_PDEATHSIG, o.parent_death_signal);
    // The parent died before the prctl? (In a new pid namespace getppid() is 0: the hold pipe
    // answers that question instead.)
    if ((o.clone_flags & CLONE_NEWPID) == 0 && ::getppid() != parent) ::_exit(127);
  }
  if (hold >= 0) {
    char go = 0;
    ssize_t n;
    do {
      n = ::read(hold, &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(127);  // the parent closed the pipe without releasing us
    ::close(hold);
  }
  if (o.new_session) ::setsid();
  // Move every mapped source above the highest target first, so that no dup2 below
  // overwrites a source still to be moved.
  int highest = 2;
  for (auto& [src, dst] : o.fds) highest = dst > highest ? dst : highest;
  int moved[64];
  const std::size_t n = o.fds.size() < 64 ? o.fds.size() : 64;
  for (std::size_t i = 0; i < n; ++i) moved[i] = ::fcntl(o.fds[i].first, F_DUPFD, highest + 1);
  const int in = o.stdin_fd >= 0 ? o.stdin_fd : devnull;
  ::dup2(in, 0);
  if (o.stdout_fd >= 0) ::dup2(o.stdout_fd, 1);
  if (o.stderr_fd >= 0) ::dup2(o.stderr_fd, 2);
  for (std::size_t i = 0; i < n; ++i) ::dup2(moved[i], o.fds[i].second);
  // Close everything else (the moved copies included).
  int lowest_free = 3;
  for (std::size_t i = 0; i < n; ++i)
    if (o.fds[i].second + 1 > lowest_free) lowest_free = o.fds[i].second + 1;
  for (int fd = 3; fd < lowest_free; ++fd) {
    bool keep = false;
    for (std::size_t i = 0; i < n; ++i) keep = keep || o.fds[i].second == fd;
    if (!keep) ::close(fd);
  }
  ::syscall(SYS_close_range, lowest_free, ~0u, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (path_lookup != nullptr) ::execvpe(path_lookup, argv, envp);
  else ::execve(argv[0], argv, envp);
  ::_exit(127);
}

}  // namespace

std::string ExitStatus::to_string() const {
  if (!signaled) return "exit " + std::to_string(code);
  return "signal " + std::to_string(code) + " (" + ::strsignal(code) + ")";
}

Result<UniqueFd> pidfd_open(pid_t pid) {
  const long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return std::unexpected(Error::sys("pidfd_open", errno));
  return UniqueFd(static_cast<int>(fd));
}

Result<ChildProcess> ChildProcess::spawn(const SpawnOptions& o) {
  if (o.argv.empty() || o.argv[0].empty())
    return std::unexpected(Error{Errc::kInvalidArgument, 0, "spawn: empty argv"});
  if (o.fds.size() > 64)
    return std::unexpected(Error{Errc::kInvalidArgument, 0, "spawn: too many fds"});
  // Everything the child needs is built before fork: the child may not allocate.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    const auto key = kv.substr(0, kv.find('=') + 1);
    if (o.clear_env && std::find(o.env_keep.begin(), o.env_keep.end(), key.substr(0, key.size() - 1)) ==
                           o.env_keep.end())
      continue;
    bool replaced = false;
    for (const auto& add : o.env_add) replaced = replaced || add.starts_with(key);
    if (!replaced) env_strings.emplace_back(kv);
  }
  for (const auto& add : o.env_add) env_strings.push_back(add);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = o.argv;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const char* lookup = o.argv[0].find('/') == std::string::npos ? argv[0] : nullptr;
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return std::unexpected(Error::sys("open /dev/null", errno));
  const pid_t parent = ::getpid();

  int hold[2] = {-1, -1};
  if (o.hold_until_released && ::pipe2(hold, O_CLOEXEC) != 0)
    return std::unexpected(Error::sys("pipe2", errno));
  UniqueFd hold_read(hold[0]);
  UniqueFd hold_write(hold[1]);

  int pidfd = -1;
  // clone(CLONE_PIDFD) with fork semantics: the pidfd exists before anyone can reap the pid.
  const long pid = ::syscall(SYS_clone, CLONE_PIDFD | SIGCHLD | o.clone_flags, nullptr, &pidfd, nullptr, 0);
  if (pid < 0) return std::unexpected(Error::sys("clone (spawn " + o.argv[0] + ")", errno));
  if (pid == 0) child_exec(o, argv.data(), envp.data(), lookup, parent, devnull.get(), hold_read.get(),
                           hold_write.get());
  ChildProcess child(static_cast<pid_t>(pid), UniqueFd(pidfd));
  child.hold_ = std::move(hold_write);
  return child;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    hold_ = std::move(other.hold_);
    status_ = std::move(other.status_);
  }
  return *this;
}

ChildProcess::~ChildProcess() { kill_and_reap(); }

void ChildProcess::kill_and_reap() {
  if (pid_ > 0 && !status_ && pidfd_) {
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    siginfo_t info{};
    while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) != 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
  pidfd_.reset();
}

Result<void> ChildProcess::release() {
  if (!hold_) return {};
  const char go = 1;
  const ssize_t n = ::write(hold_.get(), &go, 1);
  hold_.reset();
  if (n != 1) return std::unexpected(Error::sys("releasing the held child", errno));
  return {};
}

Result<void> ChildProcess::signal(int sig) {
  if (!running()) return {};
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) != 0 && errno != ESRCH)
    return std::unexpected(Error::sys("pidfd_send_signal", errno));
  return {};
}

Result<std::optional<ExitStatus>> ChildProcess::try_wait() {
  if (status_) return status_;
  if (pid_ <= 0) return std::optional<ExitStatus>();
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED | WNOHANG) != 0)
    return std::unexpected(Error::sys("waitid", errno));
  if (info.si_pid == 0) return std::optional<ExitStatus>();
  status_ = from_siginfo(info);
  return status_;
}

Result<std::optional<ExitStatus>> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  if (status_ || pid_ <= 0) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{pidfd_.get(), POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count())));
    if (r < 0 && errno != EINTR) return std::unexpected(Error::sys("poll pidfd", errno));
    if (r > 0) return try_wait();
    if (left.count() <= 0) return std::optional<ExitStatus>();
  }
}

ExitStatus ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (status_) return *status_;
  (void)signal(SIGTERM);
  if (auto s = wait_for(grace); s && *s) return **s;
  (void)signal(SIGKILL);
  if (auto s = wait_for(std::chrono::seconds(10)); s && *s) return **s;
  return ExitStatus{true, SIGKILL};
}

}  // namespace vitrine::hv
