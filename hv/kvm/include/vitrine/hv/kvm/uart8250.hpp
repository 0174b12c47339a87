// A 16550A-compatible UART (the console). Transmitted bytes go to a sink (a log file, stdout);
// received bytes come from queue_input(). Registers per the 16550A data sheet / Linux's
// include/uapi/linux/serial_reg.h; offsets 0..7 from the base port (0x3f8 for COM1).
//
// Interrupts: THR-empty (when IER.THRI is set) and receive-data-available (IER.RDI), with the
// IIR priority of the data sheet; the line is pulsed (edge) on each new pending cause, as
// kvmtool and Firecracker do with an edge-triggered ISA IRQ.
#pragma once

#include <cstdint>
#include <deque>
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

  // Bytes typed into the guest's console; any thread.
  void queue_input(std::span<const std::uint8_t> bytes);
  std::uint64_t bytes_sent() const { return sent_; }

  // Register offsets and bits used by tests.
  static constexpr std::uint8_t kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7;
  static constexpr std::uint8_t kIerRdi = 0x01, kIerThri = 0x02;
  static constexpr std::uint8_t kIirNoInt = 0x01, kIirThri = 0x02, kIirRdi = 0x04, kIirFifo = 0xc0;
  static constexpr std::uint8_t kLcrDlab = 0x80;
  static constexpr std::uint8_t kLsrDr = 0x01, kLsrThre = 0x20, kLsrTemt = 0x40;
  static constexpr std::uint8_t kMcrLoop = 0x10;

 private:
  std::uint8_t read_reg(std::uint8_t reg);
  void write_reg(std::uint8_t reg, std::uint8_t value);
  std::uint8_t iir() const;
  void update_irq(bool was_pending);
  bool pending() const { return iir() != kIirNoInt; }

  Sink sink_;
  IrqLine* irq_;
  std::mutex input_lock_;        // queue_input() races the vCPU thread's reads
  std::deque<std::uint8_t> rx_;
  std::uint8_t ier_ = 0, lcr_ = 0x03, mcr_ = 0x08, scr_ = 0, dll_ = 0x0c, dlm_ = 0, fcr_ = 0;
  std::uint8_t msr_ = 0xb0;      // DCD, DSR, CTS: a cable is plugged in
  bool thr_empty_pending_ = false;  // THRE cause latched until IIR is read or THR written
  std::uint64_t sent_ = 0;
};

}  // namespace vitrine::hv::kvm
