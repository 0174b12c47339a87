// base log: level filtering before formatting, the pluggable sink, the program name.
#include "vitrine/base/log.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vitrine::base {
namespace {

std::mutex g_mu;
std::vector<std::pair<LogLevel, std::string>> g_lines;

void capture(LogLevel level, std::string_view message) {
  std::lock_guard lock(g_mu);
  g_lines.emplace_back(level, std::string(message));
}

// Formatting this counts: it proves a filtered line is never formatted.
struct Counted {
  int* formatted;
};

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_lines.clear();
    set_log_sink(&capture);
    set_log_level(LogLevel::kDebug);
  }
  void TearDown() override {
    set_log_sink(nullptr);
    set_log_level(LogLevel::kDebug);
    set_program_name("vitrine");
  }
};

}  // namespace
}  // namespace vitrine::base

template <>
struct fmt::formatter<vitrine::base::Counted> : fmt::formatter<int> {
  auto format(const vitrine::base::Counted& c, fmt::format_context& ctx) const {
    ++*c.formatted;
    return fmt::formatter<int>::format(*c.formatted, ctx);
  }
};

namespace vitrine::base {
namespace {

TEST_F(LogTest, shouldFormatAndHandTheLineToTheSink) {
  log_warn("channel {}: {} bytes", 3, 70000);
  log_error("plain");
  ASSERT_EQ(g_lines.size(), 2u);
  EXPECT_EQ(g_lines[0].first, LogLevel::kWarn);
  EXPECT_EQ(g_lines[0].second, "channel 3: 70000 bytes");
  EXPECT_EQ(g_lines[1].first, LogLevel::kError);
}

TEST_F(LogTest, shouldNotFormatLinesBelowTheLevel) {
  set_log_level(LogLevel::kInfo);
  int formatted = 0;
  log_debug("x {}", Counted{&formatted});
  EXPECT_EQ(formatted, 0);
  EXPECT_TRUE(g_lines.empty());
  log(LogLevel::kDebug, "preformatted debug");
  EXPECT_TRUE(g_lines.empty());
  log_info("y {}", Counted{&formatted});
  EXPECT_EQ(formatted, 1);
  ASSERT_EQ(g_lines.size(), 1u);
  EXPECT_EQ(g_lines[0].second, "y 1");
}

TEST_F(LogTest, programNameShouldBeKeptAndCapped) {
  set_program_name("vitrine-guest");
  EXPECT_EQ(program_name(), "vitrine-guest");
  set_program_name(std::string(200, 'p'));
  EXPECT_EQ(program_name().size(), 63u);
}

TEST_F(LogTest, nullSinkShouldRestoreTheDefault) {
  set_log_sink(nullptr);
  set_program_name("base_test");
  testing::internal::CaptureStderr();
  log_warn("to stderr {}", 1);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "base_test warn: to stderr 1\n");
}

TEST_F(LogTest, concurrentLinesShouldArriveWhole) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t] {
      for (int i = 0; i < 1000; ++i) log_info("thread {} line {}", t, i);
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(g_lines.size(), 4000u);
}

}  // namespace
}  // namespace vitrine::base
