#include "vitrine/hv/kvm/uart8250.hpp"

namespace vitrine::hv::kvm {

void Uart8250::queue_input(std::span<const std::uint8_t> bytes) {
  std::lock_guard guard(input_lock_);
  rx_.insert(rx_.end(), bytes.begin(), bytes.end());
  // Raising from a foreign thread is fine: the IRQ line is the kernel's, and the guest reads LSR.
  if (irq_ != nullptr && (ier_ & kIerRdi) != 0) irq_->trigger();
}

std::uint8_t Uart8250::iir() const {
  // Priority (16550A table 5): line status > received data > THR empty > modem status.
  if ((ier_ & kIerRdi) != 0 && !rx_.empty()) return kIirRdi;
  if ((ier_ & kIerThri) != 0 && thr_empty_pending_) return kIirThri;
  return kIirNoInt;
}

void Uart8250::update_irq(bool was_pending) {
  if (irq_ != nullptr && !was_pending && pending()) irq_->trigger();
}

void Uart8250::read(std::uint64_t offset, std::span<std::uint8_t> data) {
  std::lock_guard guard(input_lock_);
  // Wider accesses are not valid on an 8-bit part; answer each byte from its own register.
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = offset + i < 8 ? read_reg(static_cast<std::uint8_t>(offset + i)) : 0xff;
  }
}

void Uart8250::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  std::lock_guard guard(input_lock_);
  if (offset < 8 && !data.empty()) write_reg(static_cast<std::uint8_t>(offset), data[0]);
}

std::uint8_t Uart8250::read_reg(std::uint8_t reg) {
  const bool was = pending();
  std::uint8_t v = 0;
  switch (reg) {
    case kRbrThr:
      if ((lcr_ & kLcrDlab) != 0) return dll_;
      if (!rx_.empty()) {
        v = rx_.front();
        rx_.pop_front();
      }
      break;
    case kIer:
      return (lcr_ & kLcrDlab) != 0 ? dlm_ : ier_;
    case kIirFcr:
      v = static_cast<std::uint8_t>(iir() | ((fcr_ & 0x01) != 0 ? kIirFifo : 0));
      // Reading IIR while THRE is the reported cause clears it (16550A: "THRE interrupt reset").
      if ((v & 0x0f) == kIirThri) thr_empty_pending_ = false;
      return v;
    case kLcr: return lcr_;
    case kMcr: return mcr_;
    case kLsr:
      // Transmission is instant: THR and the shift register are always empty.
      return static_cast<std::uint8_t>(kLsrThre | kLsrTemt | (rx_.empty() ? 0 : kLsrDr));
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
        rx_.push_back(value);  // loopback: what is sent is received (Linux's UART autodetection)
      } else {
        ++sent_;
        if (sink_) sink_(value);
      }
      // The byte left at once; THR is empty again, which is a new interrupt cause.
      thr_empty_pending_ = true;
      if ((ier_ & kIerThri) != 0 && irq_ != nullptr) irq_->trigger();
      return;
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
    case kIirFcr: fcr_ = value; break;
    case kLcr: lcr_ = value; break;
    case kMcr: mcr_ = value & 0x1f; break;
    case kScr: scr_ = value; break;
    default: break;  // LSR and MSR are read-only
  }
  update_irq(was);
}

}  // namespace vitrine::hv::kvm
