#include "vitrine/hv/kvm/legacy_devices.hpp"

namespace vitrine::hv::kvm {
namespace {
std::uint8_t bcd(int v) { return static_cast<std::uint8_t>(((v / 10) << 4) | (v % 10)); }
}  // namespace

std::uint8_t CmosRtc::register_value(std::uint8_t index) const {
  const std::time_t now = clock_();
  std::tm tm{};
  gmtime_r(&now, &tm);
  // MC146818 register map; register B says BCD and 24-hour mode (DM = 0, 24/12 = 1).
  switch (index) {
    case 0x00: return bcd(tm.tm_sec);
    case 0x02: return bcd(tm.tm_min);
    case 0x04: return bcd(tm.tm_hour);
    case 0x06: return bcd(tm.tm_wday + 1);
    case 0x07: return bcd(tm.tm_mday);
    case 0x08: return bcd(tm.tm_mon + 1);
    case 0x09: return bcd(tm.tm_year % 100);
    case 0x32: return bcd(19 + tm.tm_year / 100);  // century (ACPI FADT's default index)
    case 0x0a: return 0x26;  // 32.768 kHz base, 1024 Hz rate; UIP (bit 7) never set: no wait
    case 0x0b: return 0x02;  // 24-hour, BCD, no interrupts enabled
    case 0x0c: return 0x00;  // no interrupt flags
    case 0x0d: return 0x80;  // VRT: RAM and time are valid
    case 0x01: case 0x03: case 0x05: return 0;  // alarms
    default: return nvram_[index & 0x7f];
  }
}

void CmosRtc::read(std::uint64_t offset, std::span<std::uint8_t> data) {
  for (auto& b : data) b = 0xff;
  if (offset == 1 && !data.empty()) data[0] = register_value(index_);
  if (offset == 0 && !data.empty()) data[0] = index_;
}

void CmosRtc::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  if (data.empty()) return;
  if (offset == 0) {
    index_ = data[0] & 0x7f;  // bit 7 is the NMI mask, not part of the index
  } else if (offset == 1 && index_ >= 0x0e) {
    nvram_[index_] = data[0];  // time registers are the host's: writes to them are dropped
  }
}

void I8042::push_output(std::uint8_t value) {
  output_ = value;
  status_ |= kStatusOutputFull;
}

void I8042::read(std::uint64_t offset, std::span<std::uint8_t> data) {
  for (auto& b : data) b = 0xff;
  if (data.empty()) return;
  if (offset == 0) {
    data[0] = output_;
    status_ &= static_cast<std::uint8_t>(~kStatusOutputFull);
  } else if (offset == 4) {
    data[0] = status_;
  }
}

void I8042::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  if (data.empty()) return;
  const std::uint8_t v = data[0];
  if (offset == 4) {
    status_ |= kStatusCommand;
    pending_command_ = 0;
    switch (v) {
      case kCmdReadCtr: push_output(control_); break;
      case kCmdWriteCtr: case kCmdWriteOutput: pending_command_ = v; break;
      case kCmdSelfTest: push_output(0x55); break;  // "controller OK"
      case kCmdKbdTest: push_output(0x00); break;   // "no error"
      case kCmdReset:
        if (on_reset_) on_reset_();
        break;
      default: break;  // enable/disable ports (0xa7, 0xa8, 0xad, 0xae) and others: accepted
    }
    return;
  }
  if (offset == 0) {
    status_ &= static_cast<std::uint8_t>(~kStatusCommand);
    if (pending_command_ == kCmdWriteCtr) {
      control_ = v;
    } else if (pending_command_ == kCmdWriteOutput && (v & 0x01) == 0) {
      if (on_reset_) on_reset_();  // output port bit 0 is the CPU reset line, active low
    } else if (pending_command_ == 0) {
      push_output(0xfa);  // a byte for the keyboard itself: ACK it (there is no keyboard)
    }
    pending_command_ = 0;
  }
}

}  // namespace vitrine::hv::kvm
