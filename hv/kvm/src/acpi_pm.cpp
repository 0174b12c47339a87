#include "vitrine/hv/kvm/acpi_pm.hpp"

#include <fmt/format.h>

#include "vitrine/hv/kvm/acpi.hpp"
#include "vitrine/base/log.hpp"

namespace vitrine::hv::kvm {

std::uint8_t AcpiPmDevice::byte_at(std::uint64_t offset) const {
  switch (offset) {
    case 0: return static_cast<std::uint8_t>(status_);
    case 1: return static_cast<std::uint8_t>(status_ >> 8);
    case 2: return static_cast<std::uint8_t>(enable_);
    case 3: return static_cast<std::uint8_t>(enable_ >> 8);
    case 4: return static_cast<std::uint8_t>(control_ | kSciEn);
    case 5: return static_cast<std::uint8_t>(control_ >> 8);
    default: return 0xff;
  }
}

void AcpiPmDevice::read(std::uint64_t offset, std::span<std::uint8_t> data) {
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = byte_at(offset + i);
}

void AcpiPmDevice::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  bool control_written = false;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::uint64_t at = offset + i;
    const std::uint16_t v = data[i];
    switch (at) {
      case 0: status_ = static_cast<std::uint16_t>(status_ & ~v); break;         // write 1 to clear
      case 1: status_ = static_cast<std::uint16_t>(status_ & ~(v << 8)); break;
      case 2: enable_ = static_cast<std::uint16_t>((enable_ & 0xff00) | v); break;
      case 3: enable_ = static_cast<std::uint16_t>((enable_ & 0x00ff) | (v << 8)); break;
      case 4: control_ = static_cast<std::uint16_t>((control_ & 0xff00) | v); control_written = true; break;
      case 5: control_ = static_cast<std::uint16_t>((control_ & 0x00ff) | (v << 8)); control_written = true; break;
      default: break;  // outside the 6 bytes: the bus never sends it
    }
  }
  if (!control_written || (control_ & kSlpEn) == 0) return;
  // SLP_EN is write-only (reads as 0): the request is taken now, the bit is not kept.
  control_ = static_cast<std::uint16_t>(control_ & ~kSlpEn);
  const unsigned type = (control_ >> kSlpTypShift) & 7u;
  if (type == acpi::kS5SleepType) {
    if (on_power_off_) on_power_off_();
  } else {
    base::log_warn("kvm: guest asked for ACPI sleep type {} (only S5 = {} is offered); ignored", type,
                   acpi::kS5SleepType);
  }
}

}  // namespace vitrine::hv::kvm
