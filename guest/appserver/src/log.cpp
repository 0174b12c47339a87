#include "log.hpp"

#include <unistd.h>
#include <winpr/wlog.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace vitrine::appserver {
namespace {
std::atomic<bool> g_verbose{false};
}

void set_verbose(bool on) { g_verbose.store(on, std::memory_order_relaxed); }
bool verbose() { return g_verbose.load(std::memory_order_relaxed); }

void log_line(std::string_view level, std::string_view message) {
  std::string line = "vitrine-appserver ";
  line += level;
  line += ": ";
  line += message;
  line += '\n';
  // One write per line keeps lines whole when the rail thread logs too.
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

void configure_freerdp_log(bool verbose) {
  wLog* root = WLog_GetRoot();
  if (!root) return;
  if (!std::getenv("WLOG_APPENDER") && WLog_SetLogAppenderType(root, WLOG_APPENDER_CONSOLE)) {
    if (wLogAppender* console = WLog_GetLogAppender(root))
      WLog_ConfigureAppender(console, "outputstream", const_cast<char*>("stderr"));
  }
  if (!std::getenv("WLOG_LEVEL")) WLog_SetLogLevel(root, verbose ? WLOG_INFO : WLOG_WARN);
}

}  // namespace vitrine::appserver
