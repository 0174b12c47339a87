// Child processes for end-to-end tests: Xvfb on a free display (-displayfd), RDP servers and
// clients; every child is killed and reaped by its owner.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace vitrine::relay::testing {

class Child {
 public:
  Child() = default;
  // Starts `argv` with extra environment `env` ("K=V"); stdout/stderr go to /dev/null unless
  // `quiet` is false. `keep_fd` is inherited (close-on-exec cleared).
  static Child start(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                     int keep_fd = -1, bool quiet = true) {
    Child c;
    c.pid_ = ::fork();
    if (c.pid_ == 0) {
      if (keep_fd >= 0) ::fcntl(keep_fd, F_SETFD, 0);
      if (quiet) {
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
      }
      for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    return c;
  }
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Child& operator=(Child&& o) noexcept {
    stop();
    pid_ = o.pid_;
    o.pid_ = -1;
    return *this;
  }
  ~Child() { stop(); }
  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0) return false;
    int status;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
  }
  void stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    for (int i = 0; i < 200; ++i) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) != 0) {
        pid_ = -1;
        return;
      }
      ::usleep(10000);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

#ifdef VITRINE_GUEST_BIN
// vitrine-guest (VITRINE_GUEST_BIN) with `args`; fds listed in `keep` are inherited
// (close-on-exec cleared in the child).
inline pid_t spawn_guest(const std::vector<std::string>& args, const std::vector<int>& keep) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  for (int fd : keep) ::fcntl(fd, F_SETFD, 0);
  std::vector<char*> argv;
  std::string bin = VITRINE_GUEST_BIN;
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(bin.c_str(), argv.data());
  ::_exit(127);
}

inline int stop_guest(pid_t pid) {
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string join(const std::vector<int>& fds) {
  std::string s;
  for (int fd : fds) s += (s.empty() ? "" : ",") + std::to_string(fd);
  return s;
}
#endif  // VITRINE_GUEST_BIN

// A folder of this test process's own under the temp dir (for a server's Unix socket: no TCP
// port to pick, so tests running in parallel never race for one), removed on destruction.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix)
      : path_(std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline bool have_program(const std::string& name) {
  const std::string cmd = "command -v " + name + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Xvfb on a display it picks itself; display() is ":N" or empty if it did not start.
class Xvfb {
 public:
  explicit Xvfb(const std::string& geometry = "1024x768x24") {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    child_ = Child::start({"Xvfb", "-displayfd", std::to_string(p[1]), "-screen", "0", geometry, "-nolisten", "tcp"},
                          {}, p[1]);
    ::close(p[1]);
    pollfd pfd{p[0], POLLIN, 0};
    std::string number;
    while (::poll(&pfd, 1, 10000) > 0) {
      char buf[16];
      const ssize_t n = ::read(p[0], buf, sizeof buf);
      if (n <= 0) break;
      number.append(buf, static_cast<std::size_t>(n));
      if (number.find('\n') != std::string::npos) break;
    }
    ::close(p[0]);
    while (!number.empty() && (number.back() == '\n' || number.back() == ' ')) number.pop_back();
    if (!number.empty()) display_ = ":" + number;
  }
  const std::string& display() const { return display_; }

 private:
  Child child_;
  std::string display_;
};

}  // namespace vitrine::relay::testing
