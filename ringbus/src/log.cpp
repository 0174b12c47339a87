#include "vitrine/ringbus/log.hpp"

#include <atomic>
#include <cstdio>

namespace vitrine::ringbus {
namespace {

void stderr_sink(LogLevel level, std::string_view message) {
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  std::fprintf(stderr, "vitrine[%s] %.*s\n", kNames[static_cast<int>(level) & 3],
               static_cast<int>(message.size()), message.data());
}

std::atomic<LogSink> g_sink{&stderr_sink};

}  // namespace

void set_log_sink(LogSink sink) { g_sink.store(sink ? sink : &stderr_sink, std::memory_order_release); }

void log(LogLevel level, std::string_view message) { g_sink.load(std::memory_order_acquire)(level, message); }

}  // namespace vitrine::ringbus
