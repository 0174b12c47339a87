// vitrine-sandbox-init: pid 1 of a sandbox VM. Runs in fresh pid, net, ipc, uts and mount
// namespaces (and a user namespace when started by a non-root user): mounts a private /proc,
// /tmp, /run and /dev/shm (binding back, read-only, the paths under them that a program's
// command names: a checkout under /tmp works), brings up loopback (the only interface: the bus is the only way
// out), starts the guest programs with the bus fds, restarts them per policy, reaps orphans
// (pid 1 inherits every orphan of the namespace) and reports each event to the backend.
//
// Ends: when every program has ended for good (exit 0), or on SIGTERM (forwarded to every
// process of the namespace, then a 2 s grace). When pid 1 exits the kernel kills whatever is
// left in the namespace; when vitrine-vmm dies, PR_SET_PDEATHSIG kills pid 1.
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "vitrine/base/log.hpp"
#include "vitrine/hv/sandbox_protocol.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace vitrine::hv::sandbox;

enum class Restart { kNever, kOnFailure, kAlways };

struct Program {
  std::string name;
  Restart restart = Restart::kOnFailure;
  std::vector<std::string> argv;
  // The executable, opened before the private tmpfs mounts hide its path (a build tree under
  // /tmp, for instance); -1 when argv[0] is not a path (then PATH lookup at exec time).
  int exe_fd = -1;
  pid_t pid = -1;
  Clock::time_point started{};
  Clock::time_point restart_at{};
  bool restart_pending = false;
  bool done = false;
  int failures = 0;  // consecutive short-lived runs: grows the back-off
};

void say(const std::string& line) {
  std::fputs(("sandbox-init: " + line + "\n").c_str(), stderr);
  std::fflush(stderr);
}

void report(const std::string& line) {
  const std::string l = line + "\n";
  // One write per line: lines under PIPE_BUF never interleave.
  (void)!::write(kInitReportFd, l.data(), l.size());
}

bool parse_args(int argc, char** argv, std::string& hostname, std::vector<Program>& programs) {
  for (int i = 1; i < argc;) {
    const std::string a = argv[i];
    if (a == "--hostname" && i + 1 < argc) {
      hostname = argv[i + 1];
      i += 2;
    } else if (a == "--program" && i + 3 < argc) {
      Program p;
      p.name = argv[i + 1];
      const std::string r = argv[i + 2];
      p.restart = r == "never" ? Restart::kNever : r == "always" ? Restart::kAlways : Restart::kOnFailure;
      const int n = std::atoi(argv[i + 3]);
      if (n <= 0 || i + 4 + n > argc) return false;
      for (int k = 0; k < n; ++k) p.argv.emplace_back(argv[i + 4 + k]);
      programs.push_back(std::move(p));
      i += 4 + n;
    } else {
      return false;
    }
  }
  return !programs.empty();
}

// Folders the sandbox replaces with private tmpfs mounts.
constexpr const char* kHiddenDirs[] = {"/tmp", "/run", "/dev/shm"};

// A host path that a program's command names but the private mounts would hide (a build tree
// or a state folder under /tmp): opened before the mounts, bound back read-only at the same
// place after them, so that `sh -c 'exec /tmp/checkout/build/bin/x'` and `--apps-dir /tmp/...`
// work wherever the user's checkout lives. Only what the config names comes through.
struct Exposed {
  std::string path;
  int fd = -1;  // O_PATH
  bool dir = false;
};

bool under_hidden_dir(const std::string& path) {
  for (const char* d : kHiddenDirs) {
    const std::size_t n = std::strlen(d);
    if (path.size() > n + 1 && path.compare(0, n, d) == 0 && path[n] == '/') return true;
  }
  return false;
}

std::vector<Exposed> open_exposed(const std::vector<Program>& programs) {
  std::vector<std::string> paths;
  for (const Program& p : programs)
    for (const std::string& a : p.argv)
      if (under_hidden_dir(a) && a.find("/../") == std::string::npos && !a.ends_with("/..")) paths.push_back(a);
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  std::vector<Exposed> out;
  for (const std::string& path : paths) {
    // Inside a folder exposed already: nothing more to do.
    const bool covered = std::any_of(out.begin(), out.end(), [&](const Exposed& e) {
      return e.dir && path.size() > e.path.size() && path.compare(0, e.path.size(), e.path) == 0 && path[e.path.size()] == '/';
    });
    if (covered) continue;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;  // not a host path (or gone): nothing to expose
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) continue;
    const int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
      say("expose " + path + ": open: " + std::strerror(errno));
      continue;
    }
    out.push_back({path, fd, S_ISDIR(st.st_mode)});
  }
  return out;
}

// mkdir -p of `dir` inside the sandbox's fresh mounts.
void make_dirs(const std::string& dir) {
  for (std::size_t at = dir.find('/', 1);; at = dir.find('/', at + 1)) {
    ::mkdir(dir.substr(0, at).c_str(), 0755);  // EEXIST is the common case
    if (at == std::string::npos) break;
  }
}

void bind_exposed(const std::vector<Exposed>& exposed) {
  for (const Exposed& e : exposed) {
    make_dirs(e.path.substr(0, e.path.rfind('/')));
    if (e.dir) {
      ::mkdir(e.path.c_str(), 0755);
    } else {
      const int f = ::open(e.path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (f >= 0) ::close(f);
    }
    // The magic link of an O_PATH fd names the host object the mounts now hide.
    const std::string source = "/proc/self/fd/" + std::to_string(e.fd);
    if (::mount(source.c_str(), e.path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      say("expose " + e.path + ": bind mount: " + std::strerror(errno));
      continue;
    }
    // Read-only; keep the flags the source mount has (a user namespace may not drop them).
    struct statvfs vfs {};
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
    if (::fstatvfs(e.fd, &vfs) == 0) {
      if (vfs.f_flag & ST_NOSUID) flags |= MS_NOSUID;
      if (vfs.f_flag & ST_NODEV) flags |= MS_NODEV;
      if (vfs.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    }
    if (::mount(nullptr, e.path.c_str(), nullptr, flags, nullptr) != 0)
      say("expose " + e.path + ": read-only remount: " + std::strerror(errno) + " (left read-write)");
    say("exposed " + e.path + (e.dir ? " (folder, read-only)" : " (read-only)"));
  }
  for (const Exposed& e : exposed) ::close(e.fd);
}

void setup_namespace(const std::string& hostname) {
  // Our mounts must not propagate back to the host's mount namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) say(std::string("mount --make-rprivate /: ") + std::strerror(errno));
  // A /proc of the new pid namespace: programs see only their sandbox.
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    say(std::string("mount /proc: ") + std::strerror(errno));
  // Private scratch: no host Unix sockets under /tmp, /run or /dev/shm.
  for (const char* dir : {"/tmp", "/run", "/dev/shm"}) {
    const char* mode = std::strcmp(dir, "/run") == 0 ? "mode=755" : "mode=1777";
    if (::mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, mode) != 0)
      say(std::string("mount tmpfs on ") + dir + ": " + std::strerror(errno));
  }
  if (::sethostname(hostname.data(), hostname.size()) != 0) say("sethostname " + hostname + ": " + std::strerror(errno));
  // Loopback up: guest programs talk to each other (RDP server <-> relay) over 127.0.0.1.
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s >= 0) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
      if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) say(std::string("loopback up: ") + std::strerror(errno));
    }
    ::close(s);
  }
}

void start(Program& p) {
  std::vector<char*> argv;
  for (auto& a : p.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    say("fork for " + p.name + ": " + std::strerror(errno));
    p.restart_pending = true;
    p.restart_at = Clock::now() + std::chrono::seconds(1);
    return;
  }
  if (pid == 0) {
    // Guest program: bus fds at 3, 4, 5; the report pipe (3) is overwritten first, which is
    // fine: 4 -> 3, then 5 -> 4, then 6 -> 5, each source still intact when it is moved.
    static_assert(kInitBusFd == kGuestBusFd + 1 && kInitWakeGuestFd == kGuestWakeGuestFd + 1 &&
                  kInitWakeHostFd == kGuestWakeHostFd + 1);
    ::dup2(kInitBusFd, kGuestBusFd);
    ::dup2(kInitWakeGuestFd, kGuestWakeGuestFd);
    ::dup2(kInitWakeHostFd, kGuestWakeHostFd);
    ::close(kInitWakeHostFd);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::setenv(kEnvBusFd, std::to_string(kGuestBusFd).c_str(), 1);
    ::setenv(kEnvWakeHostFd, std::to_string(kGuestWakeHostFd).c_str(), 1);
    ::setenv(kEnvWakeGuestFd, std::to_string(kGuestWakeGuestFd).c_str(), 1);
    ::setenv(kEnvDoorbellFds, (std::to_string(kGuestWakeGuestFd) + "," + std::to_string(kGuestWakeHostFd)).c_str(), 1);
    if (p.exe_fd >= 0) {
      ::execveat(p.exe_fd, "", argv.data(), environ, AT_EMPTY_PATH);
      // ENOENT from a script whose interpreter needs /dev/fd (the fd is close-on-exec): retry by path.
    }
    ::execvp(argv[0], argv.data());
    vitrine::base::log_error("exec {}: {}", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  p.pid = pid;
  p.started = Clock::now();
  p.restart_pending = false;
  report("started " + p.name + " " + std::to_string(pid));
}

void on_exit(Program& p, int status, bool stopping) {
  p.pid = -1;
  const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  report("exited " + p.name + " " +
         (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                            : "signal " + std::to_string(WTERMSIG(status))));
  const bool again = !stopping && (p.restart == Restart::kAlways ||
                                   (p.restart == Restart::kOnFailure && failed));
  if (!again) {
    p.done = true;
    return;
  }
  // Back-off: 100 ms doubling per consecutive run shorter than 10 s, capped at 5 s; a crash
  // loop gives up after 10 quick failures.
  p.failures = Clock::now() - p.started < std::chrono::seconds(10) ? p.failures + 1 : 0;
  if (p.failures > 10) {
    report("gave-up " + p.name);
    p.done = true;
    return;
  }
  const auto delay = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(100) * (1 << std::min(p.failures, 6)), std::chrono::seconds(5));
  p.restart_pending = true;
  p.restart_at = Clock::now() + delay;
}

}  // namespace

int main(int argc, char** argv) {
  vitrine::base::set_program_name("vitrine-sandbox-init");
  std::string hostname = "vitrine-guest";
  std::vector<Program> programs;
  if (!parse_args(argc, argv, hostname, programs)) {
    std::fprintf(stderr, "usage: vitrine-sandbox-init --hostname NAME {--program NAME RESTART ARGC ARG...}+\n");
    return 2;
  }
  if (::getpid() != 1) {
    vitrine::base::log_error("must be pid 1 of a new pid namespace");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  const int sfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    std::perror("sandbox-init: signalfd");
    return 1;
  }
  for (Program& p : programs) {
    if (p.argv[0].find('/') != std::string::npos)
      p.exe_fd = ::open(p.argv[0].c_str(), O_PATH | O_CLOEXEC);
  }
  const std::vector<Exposed> exposed = open_exposed(programs);
  setup_namespace(hostname);
  bind_exposed(exposed);
  // The working directory may sit under a path the private mounts just hid (a checkout in
  // /tmp): programs start in / so that nothing resolves paths relative to a hidden folder.
  if (::chdir("/") != 0) say(std::string("chdir /: ") + std::strerror(errno));
  ::setenv("PWD", "/", 1);
  for (auto& p : programs) start(p);

  bool stopping = false;
  Clock::time_point stop_deadline{};
  for (;;) {
    bool any_alive = false;
    bool any_pending = false;
    auto next = Clock::now() + std::chrono::hours(1);
    for (auto& p : programs) {
      any_alive = any_alive || p.pid > 0;
      if (p.restart_pending && !stopping) {
        any_pending = true;
        next = std::min(next, p.restart_at);
      }
    }
    if (!any_alive && !any_pending) return 0;
    if (stopping) next = std::min(next, stop_deadline);
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
    pollfd pfd{sfd, POLLIN, 0};
    const int r = ::poll(&pfd, 1, static_cast<int>(std::clamp<long>(wait, 0, 3600000)));
    if (r < 0 && errno != EINTR) return 1;
    if (stopping && Clock::now() >= stop_deadline) return 0;  // the kernel kills the rest
    if (r > 0) {
      signalfd_siginfo si{};
      while (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        if (si.ssi_signo == SIGCHLD) continue;  // reaped below
        if (!stopping) {
          stopping = true;
          stop_deadline = Clock::now() + std::chrono::seconds(2);
          // kill(-1) from pid 1 reaches every other process of the namespace.
          ::kill(-1, SIGTERM);
        }
      }
      int status = 0;
      pid_t pid;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        for (auto& p : programs)
          if (p.pid == pid) on_exit(p, status, stopping);
      }
    }
    const auto now = Clock::now();
    for (auto& p : programs)
      if (p.restart_pending && !stopping && now >= p.restart_at) start(p);
  }
}
