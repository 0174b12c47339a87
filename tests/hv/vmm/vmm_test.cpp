// vitrine-vmm as a process: config and handoff rejection, crash detection, control socket.
#include <gtest/gtest.h>

#include <cstdlib>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "vitrine/hv/child_process.hpp"
#include "vmm_harness.hpp"

namespace vitrine::hv {
namespace {

using namespace std::chrono_literals;
using test::VmmHarness;

const std::string kGoodBus = "[bus]\nsize = 4194304\nchannels = 2\nring_size = 262144\n";
const std::string kProgram = "[[sandbox.program]]\nname = \"echo\"\ncommand = [\"" HV_ECHO_PATH "\"]\n";

class VmmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hv-vmm-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `vitrine-vmm --config FILE --check`; returns (exit code, output).
  std::pair<int, std::string> check(const std::string& toml) {
    std::ofstream(dir_ / "vm.toml") << toml;
    const std::string out = (dir_ / "out.txt").string();
    const std::string cmd = std::string(HV_VMM_PATH) + " --config " + (dir_ / "vm.toml").string() + " --check > " +
                            out + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::string text = test::read_text(out);
    return {WEXITSTATUS(rc), text};
  }

  // Starts a vmm on `toml` with the bus of a valid sandbox config; returns its first event.
  std::pair<std::string, ExitStatus> first_event(const std::string& toml) {
    VmConfig c;
    c.bus_size = 4u << 20;
    c.channels = 2;
    c.h2g_log2 = c.g2h_log2 = 18;
    auto bus = VmBus::create(c);
    EXPECT_TRUE(bus.has_value());
    auto fds = bus->dup_fds();
    std::ofstream(dir_ / "vm.toml") << toml;
    VmmLaunch l;
    l.vmm_path = HV_VMM_PATH;
    l.config = dir_ / "vm.toml";
    l.extra_args = {"--log-dir", dir_.string()};
    auto client = VmmClient::launch(l, *fds);
    EXPECT_TRUE(client.has_value());
    auto e = client->next_event(10s);
    auto st = client->process().wait_for(10s);
    std::string line = e && *e ? **e : "<none>";
    return {line, st && *st ? **st : ExitStatus{true, 0}};
  }

  std::filesystem::path dir_;
};

TEST_F(VmmTest, checkShouldAcceptAGoodConfig) {
  auto [rc, out] = check("backend = \"sandbox\"\n" + kGoodBus + kProgram);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("ok (sandbox backend"), std::string::npos) << out;
}

TEST_F(VmmTest, checkShouldNameTheField) {
  auto [rc, out] = check("backend = \"bochs\"\n" + kGoodBus + kProgram);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("backend: unknown value \"bochs\""), std::string::npos) << out;
  std::tie(rc, out) = check("backend = \"sandbox\"\n[bus]\nsize = 5000000\n" + kProgram);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("bus.size: 5000000 is not a power of two"), std::string::npos) << out;
  std::tie(rc, out) = check("backend = \"qemu\"\n" + kGoodBus + "[vm]\nkernel = \"/nonexistent/vmlinuz\"\n");
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("vm.kernel: \"/nonexistent/vmlinuz\" does not exist"), std::string::npos) << out;
}

TEST_F(VmmTest, shouldReportABadConfigOnTheControlSocketAndExit2) {
  auto [event, status] = first_event("backend = \"sandbox\"\n[bus]\nsize = 4194304\nchannels = 300\n" + kProgram);
  EXPECT_TRUE(event.starts_with("error bus.channels: 300 is outside")) << event;
  EXPECT_EQ(status.to_string(), "exit 2");
}

// A /dev/kvm that opens but cannot run a guest (paravirtual or broken nested KVM): the kvm
// backend refuses to start with the probe's result and points at the qemu backend. The verdict
// is forced so that the branch runs on every host.
TEST_F(VmmTest, kvmBackendShouldRefuseAKvmThatCannotRunGuests) {
  ::setenv("VITRINE_KVM_PROBE", "unusable:no exit to user space within 1000 ms", 1);
  std::ofstream(dir_ / "k") << "k";
  auto h = VmmHarness::start("backend = \"kvm\"\n" + kGoodBus + "[vm]\nkernel = \"" + (dir_ / "k").string() +
                                 "\"\ninitramfs = \"" + (dir_ / "k").string() + "\"\n",
                             HV_VMM_PATH);
  ::unsetenv("VITRINE_KVM_PROBE");
  ASSERT_TRUE(h.has_value()) << ringbus::to_string(h.error());
  auto state = (*h)->wait_for("state crashed", 10s);
  ASSERT_TRUE(state.has_value()) << (*h)->logs();
  EXPECT_NE(state->find("/dev/kvm present but cannot run a guest: no exit to user space within 1000 ms "
                        "[kvm probe, forced (VITRINE_KVM_PROBE)]; use backend = \"qemu\""),
            std::string::npos)
      << *state;
  auto st = (*h)->vmm().process().wait_for(10s);
  ASSERT_TRUE(st.has_value() && st->has_value());
  EXPECT_EQ((*st)->to_string(), "exit 1");
}

TEST_F(VmmTest, kvmBackendShouldSayThereIsNoDevKvm) {
  if (::access("/dev/kvm", F_OK) == 0) GTEST_SKIP() << "/dev/kvm exists here: this test is about its absence";
  std::ofstream(dir_ / "k") << "k";
  auto h = VmmHarness::start("backend = \"kvm\"\n" + kGoodBus + "[vm]\nkernel = \"" + (dir_ / "k").string() +
                                 "\"\ninitramfs = \"" + (dir_ / "k").string() + "\"\n",
                             HV_VMM_PATH);
  ASSERT_TRUE(h.has_value()) << ringbus::to_string(h.error());
  auto state = (*h)->wait_for("state crashed", 10s);
  ASSERT_TRUE(state.has_value()) << (*h)->logs();
  EXPECT_NE(state->find("no /dev/kvm: open: No such file or directory"), std::string::npos) << *state;
  auto st = (*h)->vmm().process().wait_for(10s);
  ASSERT_TRUE(st.has_value() && st->has_value());
  EXPECT_EQ((*st)->to_string(), "exit 1");
}

TEST_F(VmmTest, checkShouldTakeABackendOverride) {
  std::ofstream(dir_ / "k") << "k";
  const std::string vm = "[vm]\nkernel = \"k\"\ninitramfs = \"k\"\n";
  std::ofstream(dir_ / "vm.toml") << "backend = \"qemu\"\n" + kGoodBus + vm;
  const std::string out = (dir_ / "out.txt").string();
  const std::string base = std::string(HV_VMM_PATH) + " --config " + (dir_ / "vm.toml").string() + " --check";
  int rc = std::system((base + " --backend kvm > " + out + " 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 0) << test::read_text(out);
  EXPECT_NE(test::read_text(out).find("ok (kvm backend"), std::string::npos) << test::read_text(out);
  rc = std::system((base + " --backend sandbox > " + out + " 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  EXPECT_NE(test::read_text(out).find("backend: --backend sandbox needs"), std::string::npos) << test::read_text(out);
  rc = std::system((base + " --backend bochs > " + out + " 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  EXPECT_NE(test::read_text(out).find("backend: --backend \"bochs\" is unknown"), std::string::npos)
      << test::read_text(out);
}

TEST_F(VmmTest, shouldReportACrashWhenTheSandboxInitDies) {
  auto h = VmmHarness::start("backend = \"sandbox\"\n" + kGoodBus + kProgram, HV_VMM_PATH);
  ASSERT_TRUE(h.has_value()) << ringbus::to_string(h.error());
  auto info = (*h)->wait_for("info sandbox init pid ", 10s);
  ASSERT_TRUE(info.has_value()) << (*h)->logs();
  const pid_t init = std::stoi(info->substr(std::string("info sandbox init pid ").size()));
  ASSERT_TRUE((*h)->wait_for("program echo started", 10s).has_value());
  ASSERT_EQ(::kill(init, SIGKILL), 0);
  auto state = (*h)->wait_for("state ", 10s);
  ASSERT_TRUE(state.has_value()) << (*h)->logs();
  EXPECT_EQ(*state, "state crashed sandbox init signal 9 (Killed)");
  auto st = (*h)->vmm().process().wait_for(10s);
  ASSERT_TRUE(st.has_value() && st->has_value());
  EXPECT_EQ((*st)->to_string(), "exit 1");
}

TEST_F(VmmTest, shouldStopTheVmWhenTheControlSocketCloses) {
  auto h = VmmHarness::start("backend = \"sandbox\"\n" + kGoodBus + kProgram, HV_VMM_PATH);
  ASSERT_TRUE(h.has_value());
  ASSERT_TRUE((*h)->wait_for("program echo started", 10s).has_value()) << (*h)->logs();
  ::shutdown((*h)->vmm().control_fd(), SHUT_WR);
  auto state = (*h)->wait_for("state ", 10s);
  ASSERT_TRUE(state.has_value()) << (*h)->logs();
  EXPECT_EQ(*state, "state stopped requested");
  auto st = (*h)->vmm().process().wait_for(10s);
  ASSERT_TRUE(st.has_value() && st->has_value());
  EXPECT_TRUE((*st)->clean()) << (*st)->to_string();
}

TEST_F(VmmTest, shouldAnswerAnUnknownCommandWithAnError) {
  auto h = VmmHarness::start("backend = \"sandbox\"\n" + kGoodBus + kProgram, HV_VMM_PATH);
  ASSERT_TRUE(h.has_value());
  ASSERT_TRUE((*h)->wait_for("state running", 10s).has_value());
  ASSERT_EQ(::send((*h)->vmm().control_fd(), "reboot", 6, MSG_NOSIGNAL), 6);
  auto e = (*h)->wait_for("error ", 10s);
  ASSERT_TRUE(e.has_value()) << (*h)->logs();
  EXPECT_EQ(*e, "error command: unknown \"reboot\" (known: stop)");
}

}  // namespace
}  // namespace vitrine::hv
