// The KVM usability probe: the real /dev/kvm (whatever its verdict, the verdict must be
// consistent with its evidence), a missing device, a device that is not KVM, the per-boot
// cache, and every forced verdict.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "vitrine/hv/kvm_probe.hpp"

namespace vitrine::hv {
namespace {

class KvmProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kvm-probe-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    ::unsetenv("VITRINE_KVM_PROBE");
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    ::unsetenv("VITRINE_KVM_PROBE");
  }
  static KvmProbeOptions uncached(std::string device) {
    KvmProbeOptions o;
    o.device = std::move(device);
    o.cache_file = "-";
    return o;
  }
  std::filesystem::path dir_;
};

TEST_F(KvmProbe, RealDeviceVerdictMatchesItsEvidence) {
  const KvmProbeResult r = probe_kvm(uncached("/dev/kvm"));
  RecordProperty("verdict", std::string(kvm_verdict_name(r.verdict)));
  RecordProperty("reason", r.reason);
  std::printf("kvm probe on this machine: %s (%s) in %lld us, %llu guest instructions/s\n",
              std::string(kvm_verdict_name(r.verdict)).c_str(), r.reason.c_str(),
              static_cast<long long>(r.elapsed.count()), static_cast<unsigned long long>(r.instructions_per_second));
  EXPECT_EQ(r.source, "probe");
  switch (r.verdict) {
    case KvmVerdict::kUsable:
      EXPECT_TRUE(r.reason.empty()) << r.reason;
      EXPECT_GE(r.instructions_per_second, 20'000'000u);
      break;
    case KvmVerdict::kAbsent:
      EXPECT_TRUE(r.reason.starts_with("/dev/kvm: ")) << r.reason;
      EXPECT_NE(::access("/dev/kvm", R_OK | W_OK), 0) << "absent, yet /dev/kvm opens read-write";
      break;
    case KvmVerdict::kUnusable:
      EXPECT_TRUE(r.reason.starts_with("/dev/kvm present but")) << r.reason;
      // The probe never takes much longer than its timeout, whatever the device does.
      EXPECT_LT(r.elapsed, std::chrono::seconds(3));
      break;
  }
}

TEST_F(KvmProbe, MissingDeviceIsAbsentWithTheReason) {
  const KvmProbeResult r = probe_kvm(uncached("/nonexistent/kvm"));
  EXPECT_EQ(r.verdict, KvmVerdict::kAbsent);
  EXPECT_EQ(r.reason, "/nonexistent/kvm: No such file or directory");
  EXPECT_FALSE(r.usable());
}

TEST_F(KvmProbe, DeviceThatIsNotKvmIsUnusableAndSaysWhichCallFailed) {
  // /dev/null opens read-write and refuses every KVM ioctl.
  const KvmProbeResult r = probe_kvm(uncached("/dev/null"));
  EXPECT_EQ(r.verdict, KvmVerdict::kUnusable);
  EXPECT_EQ(r.reason.rfind("/dev/null present but cannot run a guest: KVM_GET_API_VERSION: ", 0), 0u) << r.reason;
}

TEST_F(KvmProbe, VerdictIsCachedPerBootAndDevice) {
  KvmProbeOptions o = uncached("/dev/null");
  o.cache_file = dir_ / "kvm-probe";
  const KvmProbeResult first = probe_kvm(o);
  EXPECT_EQ(first.source, "probe");
  ASSERT_TRUE(std::filesystem::exists(o.cache_file));
  const KvmProbeResult second = probe_kvm(o);
  EXPECT_EQ(second.source, "cache");
  EXPECT_EQ(second.verdict, first.verdict);
  EXPECT_EQ(second.reason, first.reason);

  // A verdict of another boot (or damaged) is not believed: the probe runs again.
  std::ofstream(o.cache_file, std::ios::trunc) << "v1 00000000-0000-0000-0000-000000000000 /dev/null usable \n";
  EXPECT_EQ(probe_kvm(o).source, "probe");
  std::ofstream(o.cache_file, std::ios::trunc) << "garbage\n";
  EXPECT_EQ(probe_kvm(o).source, "probe");
  // Another device does not take this one's verdict.
  KvmProbeOptions other = o;
  other.device = "/nonexistent/kvm";
  EXPECT_EQ(probe_kvm(other).verdict, KvmVerdict::kAbsent);
}

TEST_F(KvmProbe, ForcedVerdictsTakeEachBranch) {
  ::setenv("VITRINE_KVM_PROBE", "usable", 1);
  KvmProbeResult r = probe_kvm(uncached("/nonexistent/kvm"));
  EXPECT_EQ(r.verdict, KvmVerdict::kUsable);
  EXPECT_EQ(r.source, "forced (VITRINE_KVM_PROBE)");

  ::setenv("VITRINE_KVM_PROBE", "absent", 1);
  EXPECT_EQ(probe_kvm(uncached("/dev/kvm")).verdict, KvmVerdict::kAbsent);

  ::setenv("VITRINE_KVM_PROBE", "unusable:no exit within 500 ms", 1);
  r = probe_kvm(uncached("/dev/kvm"));
  EXPECT_EQ(r.verdict, KvmVerdict::kUnusable);
  EXPECT_EQ(r.reason, "/dev/kvm present but cannot run a guest: no exit within 500 ms");

  ::setenv("VITRINE_KVM_PROBE", "maybe", 1);
  r = probe_kvm(uncached("/dev/kvm"));
  EXPECT_EQ(r.verdict, KvmVerdict::kUnusable);
  EXPECT_NE(r.reason.find("\"maybe\" is not usable, absent or unusable[:REASON]"), std::string::npos) << r.reason;

  // The option wins over the environment; honour_env = false ignores it.
  KvmProbeOptions o = uncached("/nonexistent/kvm");
  o.forced = "usable";
  EXPECT_TRUE(probe_kvm(o).usable());
  o.forced.reset();
  o.honour_env = false;
  EXPECT_EQ(probe_kvm(o).verdict, KvmVerdict::kAbsent);
}

TEST(KvmProbeParse, ForcedTexts) {
  EXPECT_TRUE(parse_forced_kvm_verdict("usable")->usable());
  EXPECT_EQ(parse_forced_kvm_verdict("absent")->verdict, KvmVerdict::kAbsent);
  EXPECT_EQ(parse_forced_kvm_verdict("unusable")->verdict, KvmVerdict::kUnusable);
  EXPECT_FALSE(parse_forced_kvm_verdict("Usable").has_value());
  EXPECT_FALSE(parse_forced_kvm_verdict("").has_value());
}

}  // namespace
}  // namespace vitrine::hv
