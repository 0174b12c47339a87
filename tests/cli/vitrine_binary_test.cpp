// Runs the real `vitrine` binary: exit codes, messages, and the client commands against a
// launcher socket served by this test process.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "fake_instance.hpp"
#include "launcher_server.hpp"
#include "test_dir.hpp"

namespace vitrine::cli {
namespace {

using namespace std::chrono_literals;

struct RunResult {
  int code = -1;
  std::string out;  // stdout and stderr
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class VitrineBinary : public ::testing::Test {
 protected:
  test::TempDir runtime;
  test::TempDir home;

  void SetUp() override { ::chmod(runtime.path().c_str(), 0700); }

  RunResult run(const std::string& args) {
    auto out_file = runtime.path() / "out.txt";
    std::string cmd = "env XDG_RUNTIME_DIR='" + runtime.path().string() + "' XDG_DATA_HOME='" + home.path().string() +
                      "' " VITRINE_BIN " " + args + " >'" + out_file.string() + "' 2>&1";
    int status = std::system(cmd.c_str());
    RunResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(out_file);
    return r;
  }

  std::unique_ptr<LauncherServer> serve(test::RecordingInstance& instance, const std::string& name = "default") {
    std::filesystem::create_directories(runtime.path() / "vitrine");
    ::chmod((runtime.path() / "vitrine").c_str(), 0700);
    LauncherServerOptions o;
    o.socket_path = runtime.path() / "vitrine" / (name + ".sock");
    auto s = LauncherServer::start(o, instance);
    EXPECT_TRUE(s) << (s ? "" : s.error());
    return s ? std::move(*s) : nullptr;
  }
};

TEST_F(VitrineBinary, HelpAndUsageExitCodes) {
  auto help = run("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("Exit codes:"), std::string::npos);
  EXPECT_NE(help.out.find("install-launchers"), std::string::npos);
  EXPECT_EQ(run("launch --help").code, 0);
  EXPECT_NE(run("launch --help").out.find("Examples:"), std::string::npos);
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("--no-such-option apps").code, 2);
  EXPECT_EQ(run("launch").code, 2);
}

TEST_F(VitrineBinary, SessionCommandsHaveHelpWithExamples) {
  for (const char* cmd : {"demo --help", "run --help", "connect --help"}) {
    auto r = run(cmd);
    EXPECT_EQ(r.code, 0) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;
  }
  // A VM file that does not exist, and bad option values, are usage errors.
  EXPECT_EQ(run("run /no/such/vm.toml").code, 2);
  EXPECT_EQ(run("demo --security ssh").code, 2);
  EXPECT_EQ(run("connect").code, 2);  // --listen is required
}

TEST_F(VitrineBinary, ClientCommandsWithoutAnInstanceSayHowToStartOne) {
  for (const char* cmd : {"apps", "launch xterm", "stats", "install-launchers"}) {
    auto r = run(cmd);
    EXPECT_EQ(r.code, 3) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("vitrine demo"), std::string::npos) << r.out;
  }
  auto bad = run("--instance ../evil apps");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("invalid instance name"), std::string::npos) << bad.out;
}

TEST_F(VitrineBinary, AppsLaunchStatsAndLaunchersAgainstARunningInstance) {
  test::RecordingInstance instance;
  auto server = serve(instance);
  ASSERT_TRUE(server);

  auto apps = run("apps");
  EXPECT_EQ(apps.code, 0) << apps.out;
  EXPECT_NE(apps.out.find("debian-xterm"), std::string::npos);
  EXPECT_NE(apps.out.find("/usr/bin/xclock -update 1"), std::string::npos);

  auto launch = run("launch xterm -e top");
  EXPECT_EQ(launch.code, 0) << launch.out;
  ASSERT_GE(instance.launched.size(), 1u);
  EXPECT_EQ(instance.launched[0].first, "debian-xterm");
  EXPECT_EQ(instance.launched[0].second, (std::vector<std::string>{"-e", "top"}));

  auto unknown = run("launch xeyes");
  EXPECT_EQ(unknown.code, 4);
  EXPECT_NE(unknown.out.find("published: debian-xterm (XTerm), xclock (XClock)"), std::string::npos) << unknown.out;

  auto failed = run("launch xclock --fail");
  // The form the desktop entries use.
  EXPECT_EQ(run("--instance default launch -- xterm").code, 0);
  EXPECT_EQ(failed.code, 1);
  EXPECT_NE(failed.out.find("exec failed"), std::string::npos) << failed.out;

  auto stats = run("stats");
  EXPECT_EQ(stats.code, 0);
  EXPECT_NE(stats.out.find("bus.bytes_to_host"), std::string::npos);

  auto install = run("install-launchers");
  EXPECT_EQ(install.code, 0) << install.out;
  EXPECT_TRUE(std::filesystem::exists(home.path() / "applications" / "vitrine-default-xclock.desktop"));
  auto entry = read_file(home.path() / "applications" / "vitrine-default-debian-xterm.desktop");
  EXPECT_NE(entry.find(" --instance default launch -- debian-xterm"), std::string::npos) << entry;

  auto uninstall = run("uninstall-launchers");
  EXPECT_EQ(uninstall.code, 0) << uninstall.out;
  EXPECT_FALSE(std::filesystem::exists(home.path() / "applications" / "vitrine-default-xclock.desktop"));

  // A named instance is separate from the default one.
  test::RecordingInstance work;
  work.catalogue.resize(1);
  auto server2 = serve(work, "work");
  auto named = run("--instance work apps");
  EXPECT_EQ(named.code, 0);
  EXPECT_EQ(named.out.find("xclock"), std::string::npos) << named.out;
}

}  // namespace
}  // namespace vitrine::cli
