// TLS with the guest certificate pinned on first use, per VM: RdpClient over the bus to the test
// server with a self-signed certificate (made by the openssl tool for the test).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "null_sink.hpp"
#include "bus_pair.hpp"
#include "rail_test_server.hpp"
#include "vitrine/rdpmux/host/cert_pin_store.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

// LeakSanitizer (asan preset): libfreerdp-server2 2.11's tls_accept reads the server's
// certificate and private key from their PEM files at every accepted connection and never frees
// them. Only the test RAIL server (the fixture, not Vitrine) calls tls_accept, so this binary
// suppresses exactly that function; every other leak still fails the run. The slow unwinder
// is needed to see tls_accept at all: the fast one stops in libcrypto (no frame pointers).
extern "C" const char* __lsan_default_suppressions() { return "leak:tls_accept\n"; }
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }

namespace vitrine::rdpmux::host {
namespace {

using namespace std::chrono_literals;

using NullSink = vitrine::testing::NullSink;

class TlsPin : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vitrine-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    if (!make_cert("a") || !make_cert("b")) GTEST_SKIP() << "the openssl tool is missing or failed";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  bool make_cert(const std::string& name) {
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vitrine-" + name +
                            " -keyout " + (dir_ / (name + ".key")).string() + " -out " +
                            (dir_ / (name + ".crt")).string() + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }

  Result<void> connect_with(const std::string& cert, const std::string& vm) {
    auto link = testing::BridgedLink::make();
    if (!link) return fail(Errc::kSystem, "bus link");
    vitrine::testing::RailServerConfig sc;
    sc.tls = true;
    sc.certificate_file = (dir_ / (cert + ".crt")).string();
    sc.key_file = (dir_ / (cert + ".key")).string();
    auto server = vitrine::testing::RailTestServer::start(link->server_end.release(), sc);
    ClientConfig config;
    config.security = Security::kTls;
    config.vm_name = vm;
    config.pin_dir = dir_ / "pins";
    NullSink sink;
    auto client = RdpClient::start(config, std::move(link->client_end), sink, sink);
    if (!client) return std::unexpected(client.error());
    auto r = (*client)->wait_connected(20s);
    (*client)->stop();
    return r;
  }

  std::filesystem::path dir_;
};

TEST_F(TlsPin, FirstUsePinsThenSameCertificateConnects) {
  auto first = connect_with("a", "vm1");
  ASSERT_TRUE(first) << to_string(first.error());
  CertPinStore store(dir_ / "pins");
  ASSERT_TRUE(store.pinned("vm1"));
  auto again = connect_with("a", "vm1");
  EXPECT_TRUE(again) << to_string(again.error());
}

TEST_F(TlsPin, ChangedCertificateIsRefusedClearly) {
  ASSERT_TRUE(connect_with("a", "vm2"));
  auto changed = connect_with("b", "vm2");
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().code, Errc::kCertificateChanged) << to_string(changed.error());
  EXPECT_NE(changed.error().message.find("vm2.pin"), std::string::npos) << changed.error().message;
  // Pins are per VM: another VM with certificate b is fine.
  EXPECT_TRUE(connect_with("b", "vm3"));
}

TEST(RdpClientConfig, TlsWithoutAPinDirectoryIsRefusedAtStart) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  ::close(fds[1]);
  ClientConfig config;
  config.security = Security::kTls;
  NullSink sink;
  auto client = RdpClient::start(config, ringbus::UniqueFd(fds[0]), sink, sink);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().code, Errc::kConfig);
}

TEST(CertPinStore, RejectsNamesThatAreNotPlain) {
  CertPinStore store(std::filesystem::temp_directory_path());
  const std::uint8_t cert[] = {1, 2, 3};
  EXPECT_EQ(store.verify("../etc", cert).error().code, Errc::kConfig);
  EXPECT_EQ(store.verify("", cert).error().code, Errc::kConfig);
}

}  // namespace
}  // namespace vitrine::rdpmux::host
