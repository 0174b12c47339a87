// Starts a private Xvfb for one test (display number chosen by Xvfb itself through
// -displayfd, so concurrent test runs never collide) and stops it again.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace vitrine::compositor::testing {

class XvfbServer {
 public:
  // Empty display() when Xvfb could not be started; why() says what happened.
  XvfbServer(int width = 1024, int height = 768) {
    int fds[2];
    if (pipe(fds) != 0) {
      why_ = "pipe failed";
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[0]);
      const std::string fd = std::to_string(fds[1]);
      const std::string screen = std::to_string(width) + "x" + std::to_string(height) + "x24";
      execlp("Xvfb", "Xvfb", "-displayfd", fd.c_str(), "-screen", "0", screen.c_str(), "-nolisten", "tcp",
             "-noreset", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    if (pid_ < 0) {
      close(fds[0]);
      why_ = "fork failed";
      return;
    }
    std::string number;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char c = 0;
      if (read(fds[0], &c, 1) != 1) break;  // EOF: Xvfb died or is not installed
      if (c == '\n') {
        display_ = ":" + number;
        break;
      }
      number += c;
    }
    close(fds[0]);
    if (display_.empty()) {
      why_ = "Xvfb did not start (is the xvfb package installed?)";
      stop();
    }
  }
  ~XvfbServer() { stop(); }
  XvfbServer(const XvfbServer&) = delete;
  XvfbServer& operator=(const XvfbServer&) = delete;

  [[nodiscard]] const std::string& display() const { return display_; }
  [[nodiscard]] const std::string& why() const { return why_; }

 private:
  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }
  pid_t pid_ = -1;
  std::string display_;
  std::string why_;
};

}  // namespace vitrine::compositor::testing
