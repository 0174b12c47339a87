#include "log.hpp"

#include <unistd.h>

#include <atomic>
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

}  // namespace vitrine::appserver
