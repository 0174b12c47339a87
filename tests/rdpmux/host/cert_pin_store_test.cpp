// CertPinStore on the file system alone (no TLS, no FreeRDP connection; tls_pin_test.cpp has
// those): first use pins, the same certificate matches, another is refused, and whatever else
// sits at the pin path (a dangling symlink, a symlink loop, a symlink to a real pin elsewhere,
// a directory) is refused with an error that names the file, instead of being followed or
// recursed on. The store once recursed without end on a dangling symlink at the pin path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "vitrine/rdpmux/host/cert_pin_store.hpp"

namespace vitrine::rdpmux::host {
namespace {

namespace fs = std::filesystem;

class CertPinStoreFs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vitrine-pins-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "pins");
  }
  void TearDown() override { fs::remove_all(dir_); }

  static constexpr std::uint8_t kCertA[] = {'a', 'b', 'c'};
  static constexpr std::uint8_t kCertB[] = {'x', 'y', 'z'};
  fs::path dir_;
};

TEST_F(CertPinStoreFs, FirstUsePinsTheSameCertificateMatchesAnotherIsRefused) {
  CertPinStore store(dir_ / "pins" / "nested");  // created on first use
  auto first = store.verify("vm", kCertA);
  ASSERT_TRUE(first) << to_string(first.error());
  EXPECT_EQ(*first, CertPinStore::Verdict::kPinnedNow);
  EXPECT_EQ(store.pinned("vm"), CertPinStore::fingerprint(kCertA));
  auto again = store.verify("vm", kCertA);
  ASSERT_TRUE(again) << to_string(again.error());
  EXPECT_EQ(*again, CertPinStore::Verdict::kMatches);
  auto changed = store.verify("vm", kCertB);
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().code, Errc::kCertificateChanged);
}

TEST_F(CertPinStoreFs, ADanglingSymlinkAtThePinPathIsRefusedNotRecursedOn) {
  CertPinStore store(dir_ / "pins");
  fs::create_symlink(dir_ / "nowhere" / "vm.pin", store.pin_path("vm"));
  auto r = store.verify("vm", kCertA);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConfig) << to_string(r.error());
  EXPECT_NE(r.error().message.find("vm.pin"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos) << r.error().message;
  EXPECT_FALSE(store.pinned("vm"));
  EXPECT_FALSE(fs::exists(dir_ / "nowhere"));  // nothing was created through the link
}

TEST_F(CertPinStoreFs, ASymlinkLoopAtThePinPathIsRefused) {
  CertPinStore store(dir_ / "pins");
  fs::create_symlink(dir_ / "pins" / "other.pin", store.pin_path("vm"));
  fs::create_symlink(store.pin_path("vm"), dir_ / "pins" / "other.pin");
  auto r = store.verify("vm", kCertA);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConfig) << to_string(r.error());
  EXPECT_NE(r.error().message.find("vm.pin"), std::string::npos) << r.error().message;
  EXPECT_FALSE(store.pinned("vm"));
}

TEST_F(CertPinStoreFs, ASymlinkToARealPinElsewhereIsNotFollowed) {
  CertPinStore elsewhere(dir_ / "elsewhere");
  ASSERT_TRUE(elsewhere.verify("vm", kCertA));
  CertPinStore store(dir_ / "pins");
  fs::create_symlink(elsewhere.pin_path("vm"), store.pin_path("vm"));
  EXPECT_FALSE(store.pinned("vm"));
  auto r = store.verify("vm", kCertA);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kConfig) << to_string(r.error());
}

TEST_F(CertPinStoreFs, APinDirectoryThatIsADanglingSymlinkOrALoopFailsClearly) {
  fs::create_symlink(dir_ / "nowhere", dir_ / "dangling");
  CertPinStore dangling(dir_ / "dangling");
  auto r = dangling.verify("vm", kCertA);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("dangling"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(dir_ / "nowhere"));

  fs::create_symlink(dir_ / "loop-b", dir_ / "loop-a");
  fs::create_symlink(dir_ / "loop-a", dir_ / "loop-b");
  CertPinStore loop(dir_ / "loop-a");
  auto l = loop.verify("vm", kCertA);
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("loop-a"), std::string::npos) << l.error().message;
  EXPECT_FALSE(loop.pinned("vm"));
}

TEST_F(CertPinStoreFs, ADirectoryOrAMalformedFileAtThePinPathIsRefused) {
  CertPinStore store(dir_ / "pins");
  fs::create_directory(store.pin_path("dir"));
  EXPECT_EQ(store.verify("dir", kCertA).error().code, Errc::kConfig);
  std::ofstream(store.pin_path("bad")) << "sha256 short\n";
  EXPECT_EQ(store.verify("bad", kCertA).error().code, Errc::kConfig);
  EXPECT_FALSE(store.pinned("bad"));
}

}  // namespace
}  // namespace vitrine::rdpmux::host
