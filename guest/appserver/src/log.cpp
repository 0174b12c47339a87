#include "log.hpp"

#include <winpr/wlog.h>

#include <cstdlib>

#include "vitrine/base/log.hpp"

namespace vitrine::appserver {

void configure_log(bool verbose) {
  base::set_program_name("vitrine-appserver");
  base::set_log_level(verbose ? base::LogLevel::kDebug : base::LogLevel::kInfo);
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
