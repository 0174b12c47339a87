// Runs the real `vitrine-guest catalog` (guest/relay/src/catalog_command.cpp): the one-shot
// listing, and --watch reporting a change and stopping cleanly on SIGINT.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "test_dir.hpp"

namespace vitrine::catalog {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts `vitrine-guest catalog ARGS...` with stdout and stderr into `log`.
pid_t start(const std::filesystem::path& log, std::initializer_list<const char*> args) {
  std::vector<const char*> argv{VITRINE_GUEST_BIN, "catalog"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* f = std::freopen(log.c_str(), "w", stdout);
    if (!f || ::dup2(::fileno(stdout), 2) < 0) ::_exit(99);
    ::execv(VITRINE_GUEST_BIN, const_cast<char* const*>(argv.data()));
    ::_exit(98);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(CatalogCommand, ListsWhatTheGuestPublishes) {
  test::TempDir data;
  test::write_file(data.path() / "applications" / "a.desktop",
                   "[Desktop Entry]\nType=Application\nName=A\nExec=a --flag %U\n");
  const auto log = data.path() / "out.txt";
  pid_t pid = start(log, {data.path().c_str()});
  ASSERT_GE(pid, 0);
  EXPECT_EQ(wait_exit(pid), 0) << read_file(log);
  EXPECT_NE(read_file(log).find("a\tA\ta --flag %U\t-\n"), std::string::npos) << read_file(log);
}

TEST(CatalogCommand, RefusesAnUnknownOption) {
  test::TempDir data;
  const auto log = data.path() / "out.txt";
  pid_t pid = start(log, {"--no-such-option"});
  ASSERT_GE(pid, 0);
  EXPECT_EQ(wait_exit(pid), 2);
  EXPECT_NE(read_file(log).find("usage: vitrine-guest catalog"), std::string::npos) << read_file(log);
}

TEST(CatalogCommand, WatchReportsChangesAndStopsCleanlyOnSigint) {
  test::TempDir data;
  test::write_file(data.path() / "applications" / "a.desktop", "[Desktop Entry]\nType=Application\nName=A\nExec=a\n");
  test::TempDir out;
  const auto log = out.path() / "watch.txt";
  pid_t pid = start(log, {"--watch", data.path().c_str()});
  ASSERT_GE(pid, 0);
  auto wait_for = [&](std::string_view text) {
    for (int i = 0; i < 200; ++i) {
      if (read_file(log).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  };
  EXPECT_TRUE(wait_for("watching")) << read_file(log);
  test::write_file(data.path() / "applications" / "b.desktop", "[Desktop Entry]\nType=Application\nName=B\nExec=b\n");
  EXPECT_TRUE(wait_for("--- changed")) << read_file(log);
  EXPECT_TRUE(wait_for("b\tB\tb")) << read_file(log);
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal instead of shutting down";
  EXPECT_EQ(WEXITSTATUS(status), 130);
}

}  // namespace
}  // namespace vitrine::catalog
