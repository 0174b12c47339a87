// VmConfig: every malformed or missing field gets an error that names it.
#include "vitrine/hv/vm_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace vitrine::hv {
namespace {

namespace fs = std::filesystem;

class VmConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hv-config-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "vmlinuz") << "k";
    std::ofstream(dir_ / "initrd.img") << "i";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string sandbox(const std::string& bus = "size = 16777216\nchannels = 4\nring_size = 1048576\n",
                             const std::string& program = "name = \"relay\"\ncommand = [\"/bin/true\"]\n") {
    return "backend = \"sandbox\"\n[bus]\n" + bus + "[[sandbox.program]]\n" + program;
  }
  static std::string qemu(const std::string& vm) {
    return "backend = \"qemu\"\n[bus]\nsize = 16777216\n[vm]\n" + vm;
  }
  // Parses `text`, expects failure, returns the field the error names.
  std::string field_of(const std::string& text) {
    auto r = parse_vm_config(text, dir_);
    EXPECT_FALSE(r.has_value()) << "accepted:\n" << text;
    if (r.has_value()) return "<accepted>";
    EXPECT_FALSE(r.error().message.empty());
    return r.error().field;
  }

  fs::path dir_;
};

TEST_F(VmConfigTest, shouldAcceptAFullSandboxConfig) {
  auto r = parse_vm_config(sandbox() + "restart = \"always\"\n[guest]\nrdp_target = \"unix:/run/rdp.sock\"\n", dir_);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->backend, BackendKind::kSandbox);
  EXPECT_EQ(r->bus_size, 16u << 20);
  EXPECT_EQ(r->channels, 4u);
  EXPECT_EQ(r->h2g_log2, 20u);
  ASSERT_EQ(r->programs.size(), 1u);
  EXPECT_EQ(r->programs[0].restart, RestartPolicy::kAlways);
  EXPECT_EQ(r->rdp_target, "unix:/run/rdp.sock");
}

TEST_F(VmConfigTest, shouldAcceptAFullQemuConfigWithRelativePaths) {
  auto r = parse_vm_config(qemu("kernel = \"vmlinuz\"\ninitramfs = \"initrd.img\"\nmemory_mib = 256\nvcpus = 2\n"
                                "accel = \"tcg\"\ndoorbell = \"ivshmem-plain\"\nuser_net = true\n"),
                           dir_);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->kernel, dir_ / "vmlinuz");
  EXPECT_EQ(r->accel, Accel::kTcg);
  EXPECT_EQ(r->doorbell, DoorbellMode::kIvshmemPlain);
  EXPECT_EQ(r->memory_mib, 256u);
  EXPECT_TRUE(r->user_net);
}

TEST_F(VmConfigTest, shouldNameTheFieldOfEveryTopLevelMistake) {
  EXPECT_EQ(field_of("backend = \"xen\"\n[bus]\nsize = 16777216\n"), "backend");
  EXPECT_EQ(field_of("[bus]\nsize = 16777216\n"), "backend");
  EXPECT_EQ(field_of("backend = 3\n[bus]\nsize = 16777216\n"), "backend");
  EXPECT_EQ(field_of("name = \"a b\"\n" + sandbox()), "name");
  EXPECT_EQ(field_of("colour = \"red\"\n" + sandbox()), "colour");
  EXPECT_EQ(field_of("backend = \"sandbox\"\n"), "bus");
  EXPECT_EQ(field_of("backend = \"sandbox\"\nbus = 5\n"), "bus");
  EXPECT_EQ(field_of("log_dir = \"\"\n" + sandbox()), "log_dir");
}

TEST_F(VmConfigTest, shouldReportSyntaxErrorsWithALine) {
  auto r = parse_vm_config("backend = \"sandbox\"\n[bus\nsize = 1\n", dir_);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("line 2"), std::string::npos) << r.error().message;
}

TEST_F(VmConfigTest, shouldRejectBadBusGeometry) {
  EXPECT_EQ(field_of(sandbox("size = 16777215\n")), "bus.size");  // not a power of two
  EXPECT_EQ(field_of(sandbox("channels = 4\n")), "bus.size");     // missing
  EXPECT_EQ(field_of(sandbox("size = \"16M\"\n")), "bus.size");   // wrong type
  EXPECT_EQ(field_of(sandbox("size = 65536\nchannels = 4\n")), "bus.size");  // too small for the rings
  EXPECT_EQ(field_of(sandbox("size = 16777216\nchannels = 0\n")), "bus.channels");
  EXPECT_EQ(field_of(sandbox("size = 16777216\nchannels = 257\n")), "bus.channels");
  EXPECT_EQ(field_of(sandbox("size = 16777216\nring_size = 100000\n")), "bus.ring_size");
  EXPECT_EQ(field_of(sandbox("size = 16777216\nring_size = 1024\n")), "bus.ring_size");
  EXPECT_EQ(field_of(sandbox("size = 16777216\nh2g_ring_size = 3\n")), "bus.h2g_ring_size");
  EXPECT_EQ(field_of(sandbox("size = 16777216\ng2h_ring_size = true\n")), "bus.g2h_ring_size");
  EXPECT_EQ(field_of(sandbox("size = 16777216\nrings = 2\n")), "bus.rings");
}

TEST_F(VmConfigTest, shouldRejectBadGuestTarget) {
  for (const char* t : {"tcp:0", "tcp:65536", "tcp:x", "unix:relative", "http:80", ""}) {
    EXPECT_EQ(field_of(sandbox() + "[guest]\nrdp_target = \"" + t + "\"\n"), "guest.rdp_target") << t;
  }
  EXPECT_EQ(field_of(sandbox() + "[guest]\nport = 1\n"), "guest.port");
}

TEST_F(VmConfigTest, shouldRejectBadSandboxPrograms) {
  EXPECT_EQ(field_of("backend = \"sandbox\"\n[bus]\nsize = 16777216\n"), "sandbox");
  EXPECT_EQ(field_of("backend = \"sandbox\"\n[bus]\nsize = 16777216\n[sandbox]\nhostname = \"h\"\n"),
            "sandbox.program");
  EXPECT_EQ(field_of(sandbox("size = 16777216\n", "command = [\"/bin/true\"]\n")), "sandbox.program[0].name");
  EXPECT_EQ(field_of(sandbox("size = 16777216\n", "name = \"a\"\n")), "sandbox.program[0].command");
  EXPECT_EQ(field_of(sandbox("size = 16777216\n", "name = \"a\"\ncommand = []\n")), "sandbox.program[0].command");
  EXPECT_EQ(field_of(sandbox("size = 16777216\n", "name = \"a\"\ncommand = \"/bin/true\"\n")),
            "sandbox.program[0].command");
  EXPECT_EQ(field_of(sandbox("size = 16777216\n", "name = \"a\"\ncommand = [\"x\", 1]\n")),
            "sandbox.program[0].command[1]");
  EXPECT_EQ(field_of(sandbox("size = 16777216\n", "name = \"a\"\ncommand = [\"x\"]\nrestart = \"sometimes\"\n")),
            "sandbox.program[0].restart");
  EXPECT_EQ(field_of(sandbox("size = 16777216\n", "name = \"a\"\ncommand = [\"x\"]\nuser = \"root\"\n")),
            "sandbox.program[0].user");
  EXPECT_EQ(field_of(sandbox() + "[[sandbox.program]]\nname = \"relay\"\ncommand = [\"y\"]\n"),
            "sandbox.program[1].name");
  EXPECT_EQ(field_of(sandbox() + "[vm]\nkernel = \"vmlinuz\"\n"), "vm");
}

TEST_F(VmConfigTest, shouldRejectBadVmFields) {
  const std::string ok = "kernel = \"vmlinuz\"\ninitramfs = \"initrd.img\"\n";
  EXPECT_EQ(field_of("backend = \"qemu\"\n[bus]\nsize = 16777216\n"), "vm");
  EXPECT_EQ(field_of(qemu("initramfs = \"initrd.img\"\n")), "vm.kernel");
  EXPECT_EQ(field_of(qemu("kernel = \"missing-kernel\"\ninitramfs = \"initrd.img\"\n")), "vm.kernel");
  EXPECT_EQ(field_of(qemu("kernel = \"" + dir_.string() + "\"\ninitramfs = \"initrd.img\"\n")), "vm.kernel");
  EXPECT_EQ(field_of(qemu("kernel = \"vmlinuz\"\n")), "vm.initramfs");
  EXPECT_EQ(field_of(qemu("kernel = \"vmlinuz\"\ninitramfs = \"nope.img\"\n")), "vm.initramfs");
  EXPECT_EQ(field_of(qemu(ok + "memory_mib = 32\n")), "vm.memory_mib");
  EXPECT_EQ(field_of(qemu(ok + "memory_mib = 1.5\n")), "vm.memory_mib");
  EXPECT_EQ(field_of(qemu(ok + "vcpus = 0\n")), "vm.vcpus");
  EXPECT_EQ(field_of(qemu(ok + "accel = \"hvf\"\n")), "vm.accel");
  EXPECT_EQ(field_of(qemu(ok + "doorbell = \"irq\"\n")), "vm.doorbell");
  EXPECT_EQ(field_of(qemu(ok + "qemu = \"\"\n")), "vm.qemu");
  EXPECT_EQ(field_of(qemu(ok + "user_net = \"yes\"\n")), "vm.user_net");
  EXPECT_EQ(field_of(qemu(ok + "cmdline = 5\n")), "vm.cmdline");
  EXPECT_EQ(field_of(qemu(ok + "bios = \"x\"\n")), "vm.bios");
  EXPECT_EQ(field_of(qemu(ok) + "[sandbox]\nhostname = \"h\"\n"), "sandbox");
}

TEST_F(VmConfigTest, shouldAcceptUserNetForwards) {
  auto r = parse_vm_config(qemu("kernel = \"vmlinuz\"\ninitramfs = \"initrd.img\"\nuser_net = true\n"
                                "user_net_forward = [\"tcp:127.0.0.1:5555-:3389\", \"udp::53-10.0.2.15:53\","
                                " \"tcp::1-:65535\"]\n"),
                           dir_);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  ASSERT_EQ(r->user_net_forwards.size(), 3u);
  EXPECT_EQ(r->user_net_forwards[0], "tcp:127.0.0.1:5555-:3389");
  EXPECT_EQ(r->user_net_forwards[1], "udp::53-10.0.2.15:53");
  auto none = parse_vm_config(qemu("kernel = \"vmlinuz\"\ninitramfs = \"initrd.img\"\nuser_net_forward = []\n"), dir_);
  ASSERT_TRUE(none.has_value()) << none.error().to_string();
  EXPECT_TRUE(none->user_net_forwards.empty());
}

TEST_F(VmConfigTest, shouldRejectMalformedUserNetForwardsWithTheRuleNamed) {
  const std::string ok = "kernel = \"vmlinuz\"\ninitramfs = \"initrd.img\"\n";
  const auto fwd = [&](const std::string& rules, bool user_net = true) {
    return qemu(ok + (user_net ? "user_net = true\n" : "") + "user_net_forward = " + rules + "\n");
  };
  EXPECT_EQ(field_of(fwd("[\"tcp::5555-:3389\"]", false)), "vm.user_net_forward");
  EXPECT_EQ(field_of(fwd("\"tcp::5555-:3389\"")), "vm.user_net_forward");
  EXPECT_EQ(field_of(fwd("[\"tcp::5555-:3389\", 5]")), "vm.user_net_forward[1]");
  // Each malformed rule, with the reason in the message.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"sctp::1-:2", "protocol"},
      {"tcp", "expected"},
      {"tcp::5555:3389", "'-'"},
      {"tcp::1-:2-:3", "'-'"},
      {"tcp::0-:3389", "host port"},
      {"tcp::65536-:3389", "host port"},
      {"tcp::5555-:", "guest port"},
      {"tcp::5555-:33a", "guest port"},
      {"tcp:localhost:5555-:3389", "host address"},
      {"tcp:127.0.0.1:5555-10.0.2:3389", "guest address"},
      {"tcp:::5555-:3389", "host part"},
      {"tcp::5555-:3389,hostfwd=tcp::1-:22", "'-'"},  // a comma would inject a QEMU option
      {"tcp::5555-:3389,restrict=on", "guest port"},
  };
  for (const auto& [rule, why] : bad) {
    auto r = parse_vm_config(fwd("[\"" + rule + "\"]"), dir_);
    ASSERT_FALSE(r.has_value()) << "accepted " << rule;
    EXPECT_EQ(r.error().field, "vm.user_net_forward[0]") << rule;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << rule << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(rule), std::string::npos) << r.error().message;
  }
  std::string many = "[";
  for (int i = 1; i <= 17; ++i) many += (i > 1 ? ", " : "") + std::string("\"tcp::") + std::to_string(i) + "-:1\"";
  EXPECT_EQ(field_of(fwd(many + "]")), "vm.user_net_forward");
}

TEST_F(VmConfigTest, shouldLoadFromAFileAndResolvePathsAgainstItsFolder) {
  std::ofstream(dir_ / "vm.toml") << qemu("kernel = \"vmlinuz\"\ninitramfs = \"initrd.img\"\n") << "\n";
  auto r = load_vm_config(dir_ / "vm.toml");
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->initramfs, dir_ / "initrd.img");
  auto missing = load_vm_config(dir_ / "absent.toml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("absent.toml"), std::string::npos);
}

// [display]: the VM's label on the host (border colour, title prefix, border width).
namespace display_label {

class VmDisplayConfigTest : public VmConfigTest {};

TEST_F(VmDisplayConfigTest, shouldDefaultToTheVmNameInBracketsAndAColourFromTheName) {
  auto r = parse_vm_config("name = \"work\"\n" + sandbox(), dir_);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->display.title_prefix, "[work] ");
  EXPECT_EQ(r->display.border_px, 2);
  EXPECT_EQ(r->display.label_rgb, default_label_rgb("work"));
  EXPECT_NE(r->display.label_rgb, 0u);
  // Eight colours: names differ, and so do most of their colours.
  std::vector<std::uint32_t> seen;
  for (const char* name : {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}) {
    const std::uint32_t rgb = default_label_rgb(name);
    if (std::find(seen.begin(), seen.end(), rgb) == seen.end()) seen.push_back(rgb);
  }
  EXPECT_GE(seen.size(), 4u);
}

TEST_F(VmDisplayConfigTest, shouldTakeColourPrefixAndBorder) {
  auto r = parse_vm_config(
      sandbox() + "[display]\nlabel_colour = \"#12aBfF\"\ntitle_prefix = \"\xe2\x9d\xb0work\xe2\x9d\xb1 \"\nborder_px = 5\n",
      dir_);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->display.label_rgb, 0x12abffu);
  EXPECT_EQ(r->display.title_prefix, "\xe2\x9d\xb0work\xe2\x9d\xb1 ");
  EXPECT_EQ(r->display.border_px, 5);
  auto zero = parse_vm_config(sandbox() + "[display]\nborder_px = 0\ntitle_prefix = \"\"\n", dir_);
  ASSERT_TRUE(zero.has_value()) << zero.error().to_string();
  EXPECT_EQ(zero->display.border_px, 0);
  EXPECT_EQ(zero->display.title_prefix, "");
}

TEST_F(VmDisplayConfigTest, shouldRefuseBadLabelsNamingTheField) {
  for (const char* colour : {"\"red\"", "\"#12345\"", "\"#1234567\"", "\"12345678\"", "\"#12345g\"", "123"})
    EXPECT_EQ(field_of(sandbox() + "[display]\nlabel_colour = " + colour + "\n"), "display.label_colour") << colour;
  EXPECT_EQ(field_of(sandbox() + "[display]\ntitle_prefix = \"a\\u001bb\"\n"), "display.title_prefix");
  EXPECT_EQ(field_of(sandbox() + "[display]\ntitle_prefix = \"a\\u0085b\"\n"), "display.title_prefix");
  EXPECT_EQ(field_of(sandbox() + "[display]\ntitle_prefix = \"" + std::string(65, 'x') + "\"\n"),
            "display.title_prefix");
  EXPECT_EQ(field_of(sandbox() + "[display]\nborder_px = 33\n"), "display.border_px");
  EXPECT_EQ(field_of(sandbox() + "[display]\nborder_px = -1\n"), "display.border_px");
  EXPECT_EQ(field_of(sandbox() + "[display]\nlabel_color = \"#ffffff\"\n"), "display.label_color");
  EXPECT_EQ(field_of("display = 3\n" + sandbox()), "display");
}

}  // namespace display_label

}  // namespace
}  // namespace vitrine::hv
