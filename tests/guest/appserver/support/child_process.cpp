#include "child_process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

namespace vitrine::appserver::testing {

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const ChildOptions& opts) {
  int out_pipe[2] = {-1, -1};
  if (opts.capture_stdout && ::pipe2(out_pipe, O_CLOEXEC) != 0) return;
  const pid_t pid = ::fork();
  if (pid < 0) return;
  if (pid == 0) {
    // Own process group: stop() signals the whole group (a shell's children too).
    ::setpgid(0, 0);
    // If the test program dies without running destructors (a crash, a timeout kill), its
    // X servers, clients and servers go with it instead of lingering.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (const auto& [k, v] : opts.env) ::setenv(k.c_str(), v.c_str(), 1);
    if (opts.capture_stdout) ::dup2(out_pipe[1], STDOUT_FILENO);
    if (!opts.stderr_path.empty()) {
      const int e = ::open(opts.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
      if (e >= 0) ::dup2(e, STDERR_FILENO);
    }
    for (const auto& [from, to] : opts.fds) {
      if (from == to) {
        ::fcntl(from, F_SETFD, 0);
      } else {
        ::dup2(from, to);
      }
    }
    std::vector<char*> cargv;
    for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    ::execvp(cargv[0], cargv.data());
    ::_exit(127);
  }
  pid_ = pid;
  if (opts.capture_stdout) {
    ::close(out_pipe[1]);
    out_fd_ = out_pipe[0];
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) stop();
  if (out_fd_ >= 0) ::close(out_fd_);
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(o.pid_), out_fd_(o.out_fd_), buffered_(std::move(o.buffered_)), status_(o.status_) {
  o.pid_ = -1;
  o.out_fd_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0) stop();
    if (out_fd_ >= 0) ::close(out_fd_);
    pid_ = o.pid_;
    out_fd_ = o.out_fd_;
    buffered_ = std::move(o.buffered_);
    status_ = o.status_;
    o.pid_ = -1;
    o.out_fd_ = -1;
  }
  return *this;
}

std::optional<std::string> ChildProcess::read_line_starting(const std::string& prefix,
                                                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    size_t nl;
    while ((nl = buffered_.find('\n')) != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      if (line.starts_with(prefix)) return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return std::nullopt;
    pollfd p{out_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::read(out_fd_, buf, sizeof(buf));
    if (n <= 0) return std::nullopt;
    buffered_.append(buf, static_cast<size_t>(n));
  }
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int st = 0;
  const pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    pid_ = -1;
    return false;
  }
  return r == 0;
}

int ChildProcess::stop(int sig, std::chrono::milliseconds grace) {
  if (pid_ <= 0) return status_;
  ::kill(-pid_, sig);
  ::kill(pid_, sig);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = st;
      ::kill(-pid_, SIGKILL);  // leftovers of the group
      pid_ = -1;
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill_hard();
  return status_;
}

void ChildProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  status_ = st;
  pid_ = -1;
}

bool have_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

int count_fds(pid_t pid) {
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

int count_threads(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.starts_with("Threads:")) return std::atoi(line.c_str() + 8);
  }
  return -1;
}

}  // namespace vitrine::appserver::testing
