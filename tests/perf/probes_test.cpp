// The USDT probes are in the binaries: readelf --notes lists them (perf list / perf probe
// find them the same way). This test binary uses the ring, so it carries the ring's probes.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <string>

#include "vitrine/ringbus/bus.hpp"
#if VITRINE_PROBES_COMPOSITOR
#include "vitrine/compositor/compositor.hpp"
#endif

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

// damage_computed, texture_uploaded and window_presented sit in Compositor::present(). This test
// links the compositor and takes present()'s address so that the linker keeps that object file
// (and with it the probe notes) in this binary.
TEST(ProbesTest, CompositorProbesAreListedInTheElfNotes) {
#if !VITRINE_HAVE_USDT
  GTEST_SKIP() << "built without <sys/sdt.h> (install systemtap-sdt-dev)";
#elif !VITRINE_PROBES_COMPOSITOR
  GTEST_SKIP() << "the compositor is not part of this build (VITRINE_ONLY)";
#else
  if (run("command -v readelf").empty()) GTEST_SKIP() << "readelf not installed (binutils)";
  // A volatile store of the member function's address: the optimizer cannot drop the
  // reference, so the linker must pull compositor.cpp's object file in.
  static volatile std::uintptr_t keep = 0;
  using Present = vitrine::compositor::Result<vitrine::compositor::PresentResult> (vitrine::compositor::Compositor::*)(
      const vitrine::compositor::PixelSource&);
  Present present = &vitrine::compositor::Compositor::present;
  std::uintptr_t address = 0;
  std::memcpy(&address, &present, sizeof address);
  keep = address;
  ASSERT_NE(keep, 0u);
  const std::string notes = run("readelf --notes /proc/" + std::to_string(::getpid()) + "/exe");
  for (const char* probe : {"damage_computed", "texture_uploaded", "window_presented"}) {
    EXPECT_NE(notes.find(std::string("Name: ") + probe), std::string::npos) << probe << " missing";
  }
#endif
}

// The relay's probes are in the vitrine-guest program itself (not only in a test binary).
TEST(ProbesTest, RelayProbesAreListedInVitrineGuest) {
#if !VITRINE_HAVE_USDT
  GTEST_SKIP() << "built without <sys/sdt.h> (install systemtap-sdt-dev)";
#elif !defined(VITRINE_GUEST_BIN)
  GTEST_SKIP() << "vitrine-guest is not part of this build (VITRINE_ONLY)";
#else
  if (run("command -v readelf").empty()) GTEST_SKIP() << "readelf not installed (binutils)";
  const std::string notes = run(std::string("readelf --notes '") + VITRINE_GUEST_BIN + "'");
  ASSERT_FALSE(notes.empty()) << "readelf printed nothing for " << VITRINE_GUEST_BIN;
  for (const char* probe : {"pdu_framed", "conn_opened", "conn_closed", "ring_commit", "ring_release"}) {
    EXPECT_NE(notes.find(std::string("Name: ") + probe), std::string::npos) << probe << " missing";
  }
#endif
}

}  // namespace
