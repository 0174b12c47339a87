#include "vitrine/base/log.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <string>

#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

namespace vitrine::base {
namespace {

std::atomic<LogSink> g_sink{&stderr_sink};
std::atomic<int> g_level{static_cast<int>(LogLevel::kDebug)};
// Configuration, written before threads start (see log.hpp); a fixed buffer so that reading it
// never races with a reallocation.
char g_program[64] = "vitrine";
std::atomic<std::size_t> g_program_len{7};

void write_all_stderr(const char* data, std::size_t size) {
  // One call per line: POSIX keeps a write() to the same file whole against other writers of
  // the process (short writes aside, which a terminal or pipe does not do for a log line).
#if defined(_WIN32)
  [[maybe_unused]] const int n = ::_write(2, data, static_cast<unsigned>(size));
#else
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, data, size);
#endif
}

}  // namespace

void set_log_sink(LogSink sink) { g_sink.store(sink ? sink : &stderr_sink, std::memory_order_release); }

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

LogLevel log_level() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

bool log_enabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void set_program_name(std::string_view name) {
  const std::size_t n = std::min(name.size(), sizeof g_program - 1);
  std::copy_n(name.data(), n, g_program);
  g_program[n] = '\0';
  g_program_len.store(n, std::memory_order_release);
}

std::string_view program_name() { return {g_program, g_program_len.load(std::memory_order_acquire)}; }

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "?";
}

void log(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  // Acquire pairs with set_log_sink's release: a sink set up before its pointer is stored.
  g_sink.load(std::memory_order_acquire)(level, message);
}

void stderr_sink(LogLevel level, std::string_view message) {
  const std::string_view program = program_name();
  const std::string_view name = level_name(level);
  std::string line;
  line.reserve(program.size() + name.size() + message.size() + 4);
  line += program;
  line += ' ';
  line += name;
  line += ": ";
  line += message;
  line += '\n';
  write_all_stderr(line.data(), line.size());
}

}  // namespace vitrine::base
