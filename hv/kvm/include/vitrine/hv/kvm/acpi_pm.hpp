// AcpiPmDevice: the ACPI fixed-hardware PM1a register blocks (ACPI 6.4 4.8.3), the part Linux
// needs to power the VM off. Spans ports layout::kPortAcpiPm1aEvt .. +5:
//   offset 0  PM1a_STS  (16 bit, write 1 to clear; nothing ever sets a bit here)
//   offset 2  PM1a_EN   (16 bit, stored)
//   offset 4  PM1a_CNT  (16 bit): SCI_EN (bit 0) always reads 1 (no SMI_CMD: always ACPI
//             mode); SLP_TYP in bits 10..12; writing SLP_EN (bit 13) with SLP_TYP =
//             acpi::kS5SleepType calls on_power_off (Linux's acpi_power_off). Other sleep
//             types are not offered by the DSDT: the write is logged and ignored.
// Accesses of 1, 2 or 4 bytes at any offset work byte-wise (ACPICA may split registers).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "vitrine/hv/kvm/device_bus.hpp"

namespace vitrine::hv::kvm {

class AcpiPmDevice final : public BusDevice {
 public:
  static constexpr std::uint64_t kBytes = 6;
  static constexpr std::uint16_t kSciEn = 1u << 0;
  static constexpr std::uint16_t kSlpEn = 1u << 13;
  static constexpr unsigned kSlpTypShift = 10;

  explicit AcpiPmDevice(std::function<void()> on_power_off) : on_power_off_(std::move(on_power_off)) {}

  void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
  void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;
  std::string name() const override { return "acpi-pm1a"; }

  std::uint16_t control() const { return control_; }
  std::uint16_t enable() const { return enable_; }

 private:
  std::uint8_t byte_at(std::uint64_t offset) const;
  std::function<void()> on_power_off_;
  std::uint16_t status_ = 0;
  std::uint16_t enable_ = 0;
  std::uint16_t control_ = kSciEn;
};

}  // namespace vitrine::hv::kvm
