// The USDT probes are in the binaries: readelf --notes lists them (perf list / perf probe
// find them the same way). This test binary uses the ring, so it carries the ring's probes.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "vitrine/ringbus/bus.hpp"

namespace {

std::string run(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    std::array<char, 4096> buf;
    while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    ::pclose(p);
  }
  return out;
}

TEST(ProbesTest, RingProbesAreListedInTheElfNotes) {
#if !VITRINE_HAVE_USDT
  GTEST_SKIP() << "built without <sys/sdt.h> (install systemtap-sdt-dev)";
#else
  if (run("command -v readelf").empty()) GTEST_SKIP() << "readelf not installed (binutils)";
  // Use the ring so that the linker keeps the probe sites.
  auto bus = vitrine::ringbus::Bus::create(vitrine::ringbus::BusConfig::uniform(1, 12, 12));
  ASSERT_TRUE(bus);
  ASSERT_TRUE(bus->channel(0).try_send(1, {}).value());
  ASSERT_TRUE(bus->channel(0).rx().read([](const vitrine::ringbus::RecordView&) {}));
  const std::string notes = run("readelf --notes /proc/" + std::to_string(::getpid()) + "/exe");
  for (const char* probe : {"ring_commit", "ring_release", "ring_fault", "doorbell_rung", "doorbell_woken"}) {
    EXPECT_NE(notes.find(std::string("Name: ") + probe), std::string::npos) << probe << " missing in:\n" << notes.substr(0, 2000);
  }
  EXPECT_NE(notes.find("Provider: vitrine"), std::string::npos);
#endif
}

}  // namespace
