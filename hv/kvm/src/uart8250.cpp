#include "vitrine/hv/kvm/uart8250.hpp"

#include <algorithm>

namespace vitrine::hv::kvm {

std::size_t Uart8250::queue_input(std::span<const std::uint8_t> bytes) {
  std::lock_guard guard(lock_);
  const std::size_t n = std::min(bytes.size(), rx_capacity() - rx_count_);
  for (std::size_t i = 0; i < n; ++i) rx_push(bytes[i]);
  // Raising from a foreign thread is fine: the IRQ line is the kernel's, and the guest reads LSR.
  if (n > 0 && irq_ != nullptr && (ier_ & kIerRdi) != 0) irq_->trigger();
  return n;
}

std::uint64_t Uart8250::bytes_sent() const {
  std::lock_guard guard(lock_);
  return sent_;
}

std::size_t Uart8250::rx_level() const {
  std::lock_guard guard(lock_);
  return rx_count_;
}

std::uint64_t Uart8250::rx_overruns() const {
  std::lock_guard guard(lock_);
  return rx_overruns_;
}

void Uart8250::rx_push(std::uint8_t byte) {
  if (rx_count_ < rx_capacity()) {
    rx_[(rx_head_ + rx_count_) % kFifoDepth] = byte;
    ++rx_count_;
    return;
  }
  // 16550A data sheet, LSR1: in FIFO mode the byte in the shift register is overwritten and never
  // reaches the FIFO; in 16450 mode it destroys the unread byte in RBR.
  lsr_errors_ |= kLsrOe;
  ++rx_overruns_;
  if ((fcr_ & kFcrEnable) == 0) rx_[rx_head_] = byte;
}

std::uint8_t Uart8250::rx_pop() {
  if (rx_count_ == 0) return 0;
  const std::uint8_t v = rx_[rx_head_];
  rx_head_ = (rx_head_ + 1) % kFifoDepth;
  --rx_count_;
  return v;
}

std::uint8_t Uart8250::iir() const {
  // Priority (16550A table 5): line status > received data > THR empty > modem status.
  if ((ier_ & kIerRlsi) != 0 && lsr_errors_ != 0) return kIirRlsi;
  if ((ier_ & kIerRdi) != 0 && rx_count_ != 0) return kIirRdi;
  if ((ier_ & kIerThri) != 0 && thr_empty_pending_) return kIirThri;
  return kIirNoInt;
}

void Uart8250::update_irq(bool was_pending) {
  if (irq_ != nullptr && !was_pending && pending()) irq_->trigger();
}

void Uart8250::read(std::uint64_t offset, std::span<std::uint8_t> data) {
  std::lock_guard guard(lock_);
  // Wider accesses are not valid on an 8-bit part; answer each byte from its own register.
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = offset + i < 8 ? read_reg(static_cast<std::uint8_t>(offset + i)) : 0xff;
  }
}

void Uart8250::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  std::lock_guard guard(lock_);
  if (offset < 8 && !data.empty()) write_reg(static_cast<std::uint8_t>(offset), data[0]);
}

std::uint8_t Uart8250::read_reg(std::uint8_t reg) {
  const bool was = pending();
  std::uint8_t v = 0;
  switch (reg) {
    case kRbrThr:
      if ((lcr_ & kLcrDlab) != 0) return dll_;
      v = rx_pop();
      break;
    case kIer:
      return (lcr_ & kLcrDlab) != 0 ? dlm_ : ier_;
    case kIirFcr:
      v = static_cast<std::uint8_t>(iir() | ((fcr_ & kFcrEnable) != 0 ? kIirFifo : 0));
      // Reading IIR while THRE is the reported cause clears it (16550A: "THRE interrupt reset").
      if ((v & 0x0f) == kIirThri) thr_empty_pending_ = false;
      return v;
    case kLcr: return lcr_;
    case kMcr: return mcr_;
    case kLsr:
      // Transmission is instant: THR and the shift register are always empty. Reading LSR clears
      // the error bits (and with them a line status interrupt).
      v = static_cast<std::uint8_t>(kLsrThre | kLsrTemt | lsr_errors_ | (rx_count_ == 0 ? 0 : kLsrDr));
      lsr_errors_ = 0;
      return v;
    case kMsr:
      if ((mcr_ & kMcrLoop) != 0) {
        // Loopback: modem outputs feed the inputs (CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2).
        return static_cast<std::uint8_t>(((mcr_ & 0x02) << 3) | ((mcr_ & 0x01) << 5) | ((mcr_ & 0x04) << 4) |
                                          ((mcr_ & 0x08) << 4));
      }
      return msr_;
    case kScr: return scr_;
    default: return 0xff;
  }
  update_irq(was);
  return v;
}

void Uart8250::write_reg(std::uint8_t reg, std::uint8_t value) {
  const bool was = pending();
  switch (reg) {
    case kRbrThr:
      if ((lcr_ & kLcrDlab) != 0) {
        dll_ = value;
        return;
      }
      if ((mcr_ & kMcrLoop) != 0) {
        rx_push(value);  // loopback: what is sent is received (Linux's size_fifo() counts them)
      } else {
        ++sent_;
        if (sink_) sink_(value);
      }
      // The byte left at once; THR is empty again, which is a new interrupt cause: an edge even
      // when another cause is pending already.
      thr_empty_pending_ = true;
      if ((ier_ & kIerThri) != 0 && irq_ != nullptr) {
        irq_->trigger();
        return;
      }
      break;  // loopback data may be a new receive or line status cause
    case kIer:
      if ((lcr_ & kLcrDlab) != 0) {
        dlm_ = value;
        return;
      }
      // Enabling THRI while THR is empty raises the interrupt at once (what Linux's
      // serial8250_start_tx waits for).
      if ((value & kIerThri) != 0 && (ier_ & kIerThri) == 0) thr_empty_pending_ = true;
      ier_ = value & 0x0f;
      break;
    case kIirFcr:
      // 16550A data sheet, FCR0: switching between FIFO and 16450 mode empties the FIFOs, and the
      // other bits are programmed only together with FCR0 = 1. FCR1/FCR2 clear and self-reset;
      // the transmit FIFO is always empty here (transmission is instant).
      if (((value ^ fcr_) & kFcrEnable) != 0 || (value & (kFcrEnable | kFcrClearRx)) == (kFcrEnable | kFcrClearRx)) {
        rx_clear();
      }
      fcr_ = (value & kFcrEnable) != 0 ? static_cast<std::uint8_t>(value & ~(kFcrClearRx | kFcrClearTx)) : 0;
      break;
    case kLcr: lcr_ = value; break;
    case kMcr: mcr_ = value & 0x1f; break;
    case kScr: scr_ = value; break;
    default: break;  // LSR and MSR are read-only
  }
  update_irq(was);
}

}  // namespace vitrine::hv::kvm
