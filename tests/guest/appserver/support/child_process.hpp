// Test helper: a child process started from argv, stopped (SIGTERM, then SIGKILL) when the
// object dies. Optionally captures stdout through a pipe and passes extra fds (dup2'ed to
// the given numbers) to the child.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vitrine::appserver::testing {

struct ChildOptions {
  std::map<std::string, std::string> env;  // set or override
  bool capture_stdout = false;
  std::string stderr_path;                 // empty: inherit
  std::vector<std::pair<int, int>> fds;    // {fd in parent, fd number in child}
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const std::vector<std::string>& argv, const ChildOptions& opts);
  ~ChildProcess();
  ChildProcess(ChildProcess&& o) noexcept;
  ChildProcess& operator=(ChildProcess&& o) noexcept;

  [[nodiscard]] bool started() const { return pid_ > 0; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  // A line of stdout starting with `prefix`, waiting up to `timeout`.
  std::optional<std::string> read_line_starting(const std::string& prefix, std::chrono::milliseconds timeout);
  [[nodiscard]] bool running();
  // Sends SIGTERM (or `sig`) and waits up to `grace`, then SIGKILL. Returns the exit status.
  int stop(int sig = 15, std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
  void kill_hard();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffered_;
  int status_ = -1;
};

// Whether `name` is an executable on $PATH.
bool have_program(const std::string& name);
// Number of open fds of process `pid` (from /proc), -1 on failure.
int count_fds(pid_t pid);
int count_threads(pid_t pid);

}  // namespace vitrine::appserver::testing
