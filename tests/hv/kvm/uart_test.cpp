// The 8250 UART's registers: transmit to the sink, divisor latch, interrupt identification,
// loopback, receive.
#include <gtest/gtest.h>

#include <string>

#include "vitrine/hv/kvm/uart8250.hpp"

namespace kvm = vitrine::hv::kvm;
using U = kvm::Uart8250;

namespace {
struct CountingIrq final : kvm::IrqLine {
  int count = 0;
  void trigger() override { ++count; }
};
std::uint8_t rd(U& u, std::uint8_t reg) {
  std::uint8_t v = 0;
  u.read(reg, std::span<std::uint8_t>(&v, 1));
  return v;
}
void wr(U& u, std::uint8_t reg, std::uint8_t v) { u.write(reg, std::span<const std::uint8_t>(&v, 1)); }
}  // namespace

TEST(Uart8250, TransmitsToTheSinkAndIsAlwaysReady) {
  std::string out;
  U u([&](std::uint8_t b) { out.push_back(static_cast<char>(b)); }, nullptr);
  EXPECT_EQ(rd(u, U::kLsr) & (U::kLsrThre | U::kLsrTemt), U::kLsrThre | U::kLsrTemt);
  for (char c : std::string("hello\n")) wr(u, U::kRbrThr, static_cast<std::uint8_t>(c));
  EXPECT_EQ(out, "hello\n");
  EXPECT_EQ(u.bytes_sent(), 6u);
}

TEST(Uart8250, DivisorLatchDoesNotTransmit) {
  std::string out;
  U u([&](std::uint8_t b) { out.push_back(static_cast<char>(b)); }, nullptr);
  wr(u, U::kLcr, U::kLcrDlab | 0x03);
  wr(u, U::kRbrThr, 0x01);  // DLL: 115200 baud
  wr(u, U::kIer, 0x00);     // DLM
  EXPECT_EQ(rd(u, U::kRbrThr), 0x01);
  EXPECT_EQ(rd(u, U::kIer), 0x00);
  wr(u, U::kLcr, 0x03);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(rd(u, U::kLcr), 0x03);
}

TEST(Uart8250, ThreInterruptRaisedAndClearedByIirRead) {
  CountingIrq irq;
  U u([](std::uint8_t) {}, &irq);
  EXPECT_EQ(rd(u, U::kIirFcr) & 0x0f, U::kIirNoInt);
  wr(u, U::kIer, U::kIerThri);  // enabling THRI with THR empty: interrupt at once
  EXPECT_EQ(irq.count, 1);
  EXPECT_EQ(rd(u, U::kIirFcr) & 0x0f, U::kIirThri);
  EXPECT_EQ(rd(u, U::kIirFcr) & 0x0f, U::kIirNoInt);  // the read cleared it
  wr(u, U::kRbrThr, 'x');  // each byte sent empties THR again
  EXPECT_EQ(irq.count, 2);
  EXPECT_EQ(rd(u, U::kIirFcr) & 0x0f, U::kIirThri);
  wr(u, U::kIer, 0);
  wr(u, U::kRbrThr, 'y');
  EXPECT_EQ(irq.count, 2);  // no THRI: no interrupt
}

TEST(Uart8250, ReceiveWithDataReadyAndInterrupt) {
  CountingIrq irq;
  U u([](std::uint8_t) {}, &irq);
  wr(u, U::kIer, U::kIerRdi);
  const std::uint8_t in[] = {'o', 'k'};
  u.queue_input(in);
  EXPECT_GE(irq.count, 1);
  EXPECT_NE(rd(u, U::kLsr) & U::kLsrDr, 0);
  EXPECT_EQ(rd(u, U::kIirFcr) & 0x0f, U::kIirRdi);
  EXPECT_EQ(rd(u, U::kRbrThr), 'o');
  EXPECT_EQ(rd(u, U::kRbrThr), 'k');
  EXPECT_EQ(rd(u, U::kLsr) & U::kLsrDr, 0);
  EXPECT_EQ(rd(u, U::kIirFcr) & 0x0f, U::kIirNoInt);
}

TEST(Uart8250, LoopbackEchoesAndMirrorsModemLines) {
  std::string out;
  U u([&](std::uint8_t b) { out.push_back(static_cast<char>(b)); }, nullptr);
  wr(u, U::kMcr, U::kMcrLoop | 0x0a);  // loop, RTS, OUT2
  wr(u, U::kRbrThr, 0x5a);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(rd(u, U::kRbrThr), 0x5a);
  EXPECT_EQ(rd(u, U::kMsr) & 0xf0, 0x90);  // CTS (from RTS) and DCD (from OUT2)
  wr(u, U::kScr, 0xa5);
  EXPECT_EQ(rd(u, U::kScr), 0xa5);
}

TEST(Uart8250, OutOfRangeAndWideAccessesAreHarmless) {
  U u([](std::uint8_t) {}, nullptr);
  std::uint8_t buf[4] = {};
  u.read(6, std::span<std::uint8_t>(buf, 4));  // past register 7
  EXPECT_EQ(buf[2], 0xff);
  const std::uint8_t w[4] = {1, 2, 3, 4};
  u.write(9, std::span<const std::uint8_t>(w, 4));
}
