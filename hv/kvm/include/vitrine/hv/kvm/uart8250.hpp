// A 16550A-compatible UART (the console). Transmitted bytes go to a sink (a log file, stdout);
// received bytes come from queue_input() or, in loopback mode (MCR.LOOP), from the guest's own
// transmissions. Registers per the 16550A data sheet / Linux's include/uapi/linux/serial_reg.h;
// offsets 0..7 from the base port (0x3f8 for COM1).
//
// Receive side: a fixed 16-byte FIFO (FCR.FIFOE set) or the 16450's single holding register
// (FIFOE clear), never more, whatever the guest does. A byte that arrives when it is full sets
// the overrun error (LSR.OE, cleared by reading LSR) and counts in rx_overruns(): in FIFO mode
// the new byte is lost, in 16450 mode it replaces the unread one (16550A data sheet, LSR1).
//
// Interrupts: receiver line status (IER.RLSI, on overrun), receive-data-available (IER.RDI) and
// THR-empty (IER.THRI), with the IIR priority of the data sheet; the line is pulsed (edge) on
// each new pending cause, as kvmtool and Firecracker do with an edge-triggered ISA IRQ.
//
// Threads: read()/write() come from vCPU threads, queue_input() and the counters from any thread;
// one internal lock serialises them. The sink is called with that lock held (one byte at a time,
// in the guest's order), so it needs no locking of its own and must not call back into the UART.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>

#include "vitrine/hv/kvm/device_bus.hpp"
#include "vitrine/hv/kvm/irq_line.hpp"

namespace vitrine::hv::kvm {

class Uart8250 final : public BusDevice {
 public:
  using Sink = std::function<void(std::uint8_t byte)>;
  // `irq` may be null (no interrupts: the guest must poll).
  Uart8250(Sink sink, IrqLine* irq) : sink_(std::move(sink)), irq_(irq) {}

  void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
  void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;
  std::string name() const override { return "uart8250"; }

  // Bytes typed into the guest's console; any thread. Takes as many as the receive side has room
  // for (see above) and returns that count: the caller keeps the rest and offers it again once the
  // guest has read (a full FIFO is back-pressure here, not an overrun).
  std::size_t queue_input(std::span<const std::uint8_t> bytes);

  std::uint64_t bytes_sent() const;
  // Bytes waiting in the receive FIFO (at most kFifoDepth).
  std::size_t rx_level() const;
  // Received bytes lost to a full receive side (guest loopback floods): a guest-caused fault, so
  // a counter rather than a log line per byte.
  std::uint64_t rx_overruns() const;

  static constexpr std::size_t kFifoDepth = 16;  // 16550A receive FIFO

  // Register offsets and bits used by tests.
  static constexpr std::uint8_t kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
  static constexpr std::uint8_t kIerRdi = 0x01, kIerThri = 0x02, kIerRlsi = 0x04;
  static constexpr std::uint8_t kIirNoInt = 0x01, kIirThri = 0x02, kIirRdi = 0x04, kIirRlsi = 0x06, kIirFifo = 0xc0;
  static constexpr std::uint8_t kFcrEnable = 0x01, kFcrClearRx = 0x02, kFcrClearTx = 0x04;
  static constexpr std::uint8_t kLcrDlab = 0x80;
  static constexpr std::uint8_t kLsrDr = 0x01, kLsrOe = 0x02, kLsrThre = 0x20, kLsrTemt = 0x40;
  static constexpr std::uint8_t kMcrLoop = 0x10;

 private:
  std::uint8_t read_reg(std::uint8_t reg);
  void write_reg(std::uint8_t reg, std::uint8_t value);
  std::uint8_t iir() const;
  void update_irq(bool was_pending);
  bool pending() const { return iir() != kIirNoInt; }
  std::size_t rx_capacity() const { return (fcr_ & kFcrEnable) != 0 ? kFifoDepth : 1; }
  void rx_push(std::uint8_t byte);  // the receiver's shift register hands over a byte
  std::uint8_t rx_pop();
  void rx_clear() { rx_head_ = rx_count_ = 0; }

  Sink sink_;
  IrqLine* irq_;
  mutable std::mutex lock_;  // queue_input() and the counters race the vCPU threads' accesses
  std::array<std::uint8_t, kFifoDepth> rx_{};  // ring: rx_count_ bytes from rx_head_
  std::size_t rx_head_ = 0, rx_count_ = 0;
  std::uint8_t ier_ = 0, lcr_ = 0x03, mcr_ = 0x08, scr_ = 0, dll_ = 0x0c, dlm_ = 0, fcr_ = 0;
  std::uint8_t msr_ = 0xb0;         // DCD, DSR, CTS: a cable is plugged in
  std::uint8_t lsr_errors_ = 0;     // OE, latched until LSR is read
  bool thr_empty_pending_ = false;  // THRE cause latched until IIR is read or THR written
  std::uint64_t sent_ = 0;
  std::uint64_t rx_overruns_ = 0;
};

}  // namespace vitrine::hv::kvm
