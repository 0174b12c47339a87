// CMOS RTC and i8042.
#include <gtest/gtest.h>

#include "vitrine/hv/kvm/legacy_devices.hpp"

namespace kvm = vitrine::hv::kvm;

namespace {
std::uint8_t cmos(kvm::CmosRtc& rtc, std::uint8_t index) {
  rtc.write(0, std::span<const std::uint8_t>(&index, 1));
  std::uint8_t v = 0;
  rtc.read(1, std::span<std::uint8_t>(&v, 1));
  return v;
}
void out(kvm::I8042& k, std::uint64_t off, std::uint8_t v) { k.write(off, std::span<const std::uint8_t>(&v, 1)); }
std::uint8_t in(kvm::I8042& k, std::uint64_t off) {
  std::uint8_t v = 0;
  k.read(off, std::span<std::uint8_t>(&v, 1));
  return v;
}
}  // namespace

TEST(CmosRtc, ReportsHostTimeInBcdWithoutUpdateInProgress) {
  // 2026-11-25 20:45:13 UTC, a Wednesday.
  kvm::CmosRtc rtc([] { return std::time_t{1795639513}; });
  EXPECT_EQ(cmos(rtc, 0x00), 0x13);
  EXPECT_EQ(cmos(rtc, 0x02), 0x45);
  EXPECT_EQ(cmos(rtc, 0x04), 0x20);
  EXPECT_EQ(cmos(rtc, 0x07), 0x25);
  EXPECT_EQ(cmos(rtc, 0x08), 0x11);
  EXPECT_EQ(cmos(rtc, 0x09), 0x26);
  EXPECT_EQ(cmos(rtc, 0x32), 0x20);
  EXPECT_EQ(cmos(rtc, 0x06), 0x04);         // day of week, Sunday = 1
  EXPECT_EQ(cmos(rtc, 0x0a) & 0x80, 0);     // UIP clear: the kernel never waits
  EXPECT_EQ(cmos(rtc, 0x0b), 0x02);         // 24-hour BCD
  EXPECT_EQ(cmos(rtc, 0x0d), 0x80);         // valid
  EXPECT_EQ(cmos(rtc, 0x80 | 0x09), 0x26);  // NMI-mask bit is not part of the index
}

TEST(CmosRtc, NvramBytesStickTimeRegistersDoNot) {
  kvm::CmosRtc rtc([] { return std::time_t{0}; });
  const std::uint8_t idx = 0x40, val = 0x77;
  rtc.write(0, std::span<const std::uint8_t>(&idx, 1));
  rtc.write(1, std::span<const std::uint8_t>(&val, 1));
  EXPECT_EQ(cmos(rtc, 0x40), 0x77);
  const std::uint8_t sec = 0x00, junk = 0x59;
  rtc.write(0, std::span<const std::uint8_t>(&sec, 1));
  rtc.write(1, std::span<const std::uint8_t>(&junk, 1));
  EXPECT_EQ(cmos(rtc, 0x00), 0x00);
}

TEST(I8042, ResetCommandCallsTheResetHandler) {
  int resets = 0;
  kvm::I8042 k([&] { ++resets; });
  out(k, 4, kvm::I8042::kCmdReset);
  EXPECT_EQ(resets, 1);
  // Write output port with the reset line (bit 0) low.
  out(k, 4, kvm::I8042::kCmdWriteOutput);
  out(k, 0, 0xfe);
  EXPECT_EQ(resets, 2);
  out(k, 4, kvm::I8042::kCmdWriteOutput);
  out(k, 0, 0x01);  // line high: no reset
  EXPECT_EQ(resets, 2);
}

TEST(I8042, SelfTestAndControlRegister) {
  kvm::I8042 k(nullptr);
  EXPECT_EQ(in(k, 4) & kvm::I8042::kStatusOutputFull, 0);
  out(k, 4, kvm::I8042::kCmdSelfTest);
  EXPECT_NE(in(k, 4) & kvm::I8042::kStatusOutputFull, 0);
  EXPECT_EQ(in(k, 0), 0x55);
  EXPECT_EQ(in(k, 4) & kvm::I8042::kStatusOutputFull, 0);
  out(k, 4, kvm::I8042::kCmdWriteCtr);
  out(k, 0, 0x30);
  out(k, 4, kvm::I8042::kCmdReadCtr);
  EXPECT_EQ(in(k, 0), 0x30);
  out(k, 4, kvm::I8042::kCmdReset);  // no handler: nothing happens, nothing crashes
}
