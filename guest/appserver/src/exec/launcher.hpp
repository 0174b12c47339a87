// Starts guest programs for RemoteApp exec requests (MS-RDPERP 2.2.2.3.1 Client Execute PDU)
// and says clearly why one could not start. A program is named by alias ("||xterm", looked up
// in the alias table, else the alias itself on $PATH) or by path/name with an argument string
// and a working directory. Children run in their own session with DISPLAY set to the captured
// X display; they are reaped, never left as zombies.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vitrine::appserver {

struct ExecRequest {
  std::string program;      // "||alias", a path, or a name found on $PATH
  std::string working_dir;  // empty: the appserver's own
  std::string arguments;    // one string, split like a shell would (quotes, backslash)
};

struct ExecOutcome {
  uint16_t rail_result = 0;  // RAIL_EXEC_S_OK or RAIL_EXEC_E_* (MS-RDPERP 2.2.2.8.1)
  uint32_t raw_result = 0;   // errno of the failure, 0 on success
  std::string message;       // for the log: what happened, in words
  pid_t pid = -1;
};

// Splits an argument string: whitespace separates, '...' and "..." group, backslash escapes
// outside single quotes. Unbalanced quotes => std::nullopt-like failure: returns false.
bool split_arguments(const std::string& s, std::vector<std::string>& out);

class Launcher {
 public:
  // `aliases`: alias -> command line (program and arguments). `display`: DISPLAY for children.
  Launcher(std::map<std::string, std::string> aliases, std::string display);
  ~Launcher();
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  ExecOutcome launch(const ExecRequest& request);
  // Collects exited children (call from the main loop).
  void reap();
  [[nodiscard]] size_t running() const { return children_.size(); }

 private:
  std::map<std::string, std::string> aliases_;
  std::string display_;
  std::vector<pid_t> children_;
};

}  // namespace vitrine::appserver
