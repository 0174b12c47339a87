// The 8250 UART's registers: transmit to the sink, divisor latch, interrupt identification,
// loopback, receive; the receive FIFO's bound against a guest flooding it in loopback mode.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "allocation_counter.hpp"
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
  wr(u, U::kIirFcr, U::kFcrEnable);  // as Linux's 8250 driver does for a 16550A
  wr(u, U::kIer, U::kIerRdi);
  const std::uint8_t in[] = {'o', 'k'};
  EXPECT_EQ(u.queue_input(in), 2u);
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

TEST(Uart8250, LoopbackFloodKeepsSixteenBytesAndSetsOverrun) {
  // A hostile guest: FIFO on, loopback on, then 1 MiB through THR without ever reading RBR.
  std::string out;
  U u([&](std::uint8_t b) { out.push_back(static_cast<char>(b)); }, nullptr);
  wr(u, U::kIirFcr, U::kFcrEnable | U::kFcrClearRx | U::kFcrClearTx);
  wr(u, U::kMcr, U::kMcrLoop);
  constexpr std::size_t kFlood = std::size_t{1} << 20;
  std::size_t max_level = 0;
  const std::uint64_t allocations_before = kvm::test::allocations();
  for (std::size_t i = 0; i < kFlood; ++i) {
    wr(u, U::kRbrThr, static_cast<std::uint8_t>(i));
    max_level = std::max(max_level, u.rx_level());
  }
  EXPECT_EQ(kvm::test::allocations(), allocations_before) << "the receive side must not grow";
  EXPECT_EQ(max_level, U::kFifoDepth);
  EXPECT_EQ(u.rx_overruns(), kFlood - U::kFifoDepth);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(u.bytes_sent(), 0u);

  // 16550A: OE is reported once and reading LSR clears it; DR stays while data is there.
  const std::uint8_t lsr = rd(u, U::kLsr);
  EXPECT_NE(lsr & U::kLsrOe, 0);
  EXPECT_NE(lsr & U::kLsrDr, 0);
  EXPECT_EQ(rd(u, U::kLsr) & U::kLsrOe, 0);
  // The FIFO kept the first 16 bytes; the overrunning ones were lost.
  for (std::uint8_t i = 0; i < U::kFifoDepth; ++i) EXPECT_EQ(rd(u, U::kRbrThr), i);
  EXPECT_EQ(rd(u, U::kLsr) & (U::kLsrDr | U::kLsrOe), 0);
  EXPECT_EQ(u.rx_level(), 0u);
  // Reading an empty RBR is harmless and changes nothing.
  EXPECT_EQ(rd(u, U::kRbrThr), 0);
  EXPECT_EQ(u.rx_level(), 0u);
}

TEST(Uart8250, WithoutFifoTheHoldingRegisterKeepsOnlyTheNewestByte) {
  U u([](std::uint8_t) {}, nullptr);
  wr(u, U::kMcr, U::kMcrLoop);  // FCR = 0: 16450 mode, one receive holding register
  for (std::uint8_t b : {0x11, 0x22, 0x33}) wr(u, U::kRbrThr, b);
  EXPECT_EQ(u.rx_level(), 1u);
  EXPECT_EQ(u.rx_overruns(), 2u);
  EXPECT_NE(rd(u, U::kLsr) & U::kLsrOe, 0);
  EXPECT_EQ(rd(u, U::kRbrThr), 0x33);  // each overrun destroyed the unread byte
  EXPECT_EQ(rd(u, U::kLsr) & (U::kLsrDr | U::kLsrOe), 0);
}

TEST(Uart8250, OverrunRaisesTheLineStatusInterruptUntilLsrIsRead) {
  CountingIrq irq;
  U u([](std::uint8_t) {}, &irq);
  wr(u, U::kIirFcr, U::kFcrEnable);
  wr(u, U::kMcr, U::kMcrLoop);
  wr(u, U::kIer, U::kIerRdi | U::kIerRlsi);
  wr(u, U::kRbrThr, 'a');
  EXPECT_EQ(irq.count, 1);  // received data: a new cause, an edge
  EXPECT_EQ(rd(u, U::kIirFcr) & 0x0f, U::kIirRdi);
  for (std::size_t i = 0; i < U::kFifoDepth; ++i) wr(u, U::kRbrThr, 'b');
  EXPECT_EQ(rd(u, U::kIirFcr) & 0x0f, U::kIirRlsi);  // line status outranks received data
  EXPECT_NE(rd(u, U::kLsr) & U::kLsrOe, 0);
  EXPECT_EQ(rd(u, U::kIirFcr) & 0x0f, U::kIirRdi);
}

TEST(Uart8250, FifoControlClearsTheReceiveFifo) {
  U u([](std::uint8_t) {}, nullptr);
  wr(u, U::kIirFcr, U::kFcrEnable);
  wr(u, U::kMcr, U::kMcrLoop);
  for (int i = 0; i < 5; ++i) wr(u, U::kRbrThr, 'x');
  EXPECT_EQ(u.rx_level(), 5u);
  EXPECT_EQ(rd(u, U::kIirFcr) & U::kIirFifo, U::kIirFifo);
  wr(u, U::kIirFcr, U::kFcrEnable | U::kFcrClearRx);
  EXPECT_EQ(u.rx_level(), 0u);
  EXPECT_EQ(rd(u, U::kLsr) & U::kLsrDr, 0);
  for (int i = 0; i < 5; ++i) wr(u, U::kRbrThr, 'y');
  wr(u, U::kIirFcr, 0);  // back to 16450 mode: the FIFO empties too
  EXPECT_EQ(u.rx_level(), 0u);
  EXPECT_EQ(rd(u, U::kIirFcr) & U::kIirFifo, 0);
}

TEST(Uart8250, QueuedInputStopsAtAFullFifo) {
  U u([](std::uint8_t) {}, nullptr);
  wr(u, U::kIirFcr, U::kFcrEnable);
  const std::vector<std::uint8_t> typed(40, 'k');
  EXPECT_EQ(u.queue_input(typed), U::kFifoDepth);  // the caller keeps the rest
  EXPECT_EQ(u.queue_input(typed), 0u);
  EXPECT_EQ(u.rx_overruns(), 0u);  // back-pressure, not an overrun
  EXPECT_EQ(rd(u, U::kLsr) & U::kLsrOe, 0);
  EXPECT_EQ(rd(u, U::kRbrThr), 'k');
  EXPECT_EQ(u.queue_input(typed), 1u);
}
