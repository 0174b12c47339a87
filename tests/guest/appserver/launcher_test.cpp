#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include "exec/launcher.hpp"

#include <freerdp/rail.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace vitrine::appserver {
namespace {

TEST(SplitArguments, HonoursQuotesAndEscapes) {
  std::vector<std::string> out;
  ASSERT_TRUE(split_arguments(R"(-e sh -c 'echo "a b"' "x y" z\ w)", out));
  EXPECT_EQ(out, (std::vector<std::string>{"-e", "sh", "-c", R"(echo "a b")", "x y", "z w"}));
  out.clear();
  ASSERT_TRUE(split_arguments("   ", out));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(split_arguments("'unbalanced", out));
}

TEST(Launcher, MissingProgramIsFileNotFound) {
  Launcher l({}, ":0");
  const ExecOutcome r = l.launch({"||no-such-program-vitrine", "", ""});
  EXPECT_EQ(r.rail_result, RAIL_EXEC_E_FILE_NOT_FOUND);
  EXPECT_NE(r.message.find("not found"), std::string::npos);
}

TEST(Launcher, MissingWorkingDirectoryFails) {
  Launcher l({}, ":0");
  const ExecOutcome r = l.launch({"/bin/true", "/no/such/dir/vitrine", ""});
  EXPECT_EQ(r.rail_result, RAIL_EXEC_E_FAIL);
  EXPECT_NE(r.message.find("working directory"), std::string::npos);
}

TEST(Launcher, UnbalancedArgumentsAreADecodeFailure) {
  Launcher l({}, ":0");
  EXPECT_EQ(l.launch({"/bin/true", "", "'oops"}).rail_result, RAIL_EXEC_E_DECODE_FAILED);
}

TEST(Launcher, AliasRunsItsCommandWithArgumentsInTheWorkingDirectory) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("vitrine-launcher-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Launcher l({{"writer", "sh -c 'echo \"$DISPLAY $0\" > out.txt'"}}, ":42");
  const ExecOutcome r = l.launch({"||writer", dir.string(), "argzero"});
  ASSERT_EQ(r.rail_result, RAIL_EXEC_S_OK) << r.message;
  EXPECT_GT(r.pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (l.running() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    l.reap();
  }
  EXPECT_EQ(l.running(), 0u) << "child not reaped";
  std::FILE* f = std::fopen((dir / "out.txt").c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[64] = {};
  ASSERT_NE(std::fgets(buf, sizeof(buf), f), nullptr);
  std::fclose(f);
  EXPECT_STREQ(buf, ":42 argzero\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vitrine::appserver
