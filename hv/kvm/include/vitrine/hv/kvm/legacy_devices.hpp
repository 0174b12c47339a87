// The two ISA devices a Linux guest touches besides the UART:
//  - CmosRtc (ports 0x70/0x71): the MC146818 clock, enough that the kernel reads the host's UTC
//    time at boot without waiting (update-in-progress always clear, data valid).
//  - I8042 (ports 0x60/0x64): the keyboard controller's command set as far as Linux's i8042
//    probe and its reset paths use it; pulsing the reset line (command 0xfe, or 0xd1 with bit
//    0 clear) calls the reset callback, which ends the VM (`reboot -f`).
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <span>
#include <string>

#include "vitrine/hv/kvm/device_bus.hpp"

namespace vitrine::hv::kvm {

class CmosRtc final : public BusDevice {
 public:
  using Clock = std::function<std::time_t()>;
  explicit CmosRtc(Clock clock = [] { return std::time(nullptr); }) : clock_(std::move(clock)) {}

  void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
  void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;
  std::string name() const override { return "cmos-rtc"; }

 private:
  std::uint8_t register_value(std::uint8_t index) const;
  Clock clock_;
  std::uint8_t index_ = 0;
  std::uint8_t nvram_[128] = {};  // bytes the guest stored (registers 0x0e..0x7f)
};

class I8042 final : public BusDevice {
 public:
  explicit I8042(std::function<void()> on_reset) : on_reset_(std::move(on_reset)) {}

  // Offsets: 0 = data port (0x60), 4 = command/status port (0x64); the device spans 0x60..0x64.
  void read(std::uint64_t offset, std::span<std::uint8_t> data) override;
  void write(std::uint64_t offset, std::span<const std::uint8_t> data) override;
  std::string name() const override { return "i8042"; }

  static constexpr std::uint8_t kStatusOutputFull = 0x01;
  static constexpr std::uint8_t kStatusSystemFlag = 0x04;
  static constexpr std::uint8_t kStatusCommand = 0x08;
  static constexpr std::uint8_t kCmdReadCtr = 0x20, kCmdWriteCtr = 0x60, kCmdSelfTest = 0xaa,
                                kCmdKbdTest = 0xab, kCmdWriteOutput = 0xd1, kCmdReset = 0xfe;

 private:
  void push_output(std::uint8_t value);
  std::function<void()> on_reset_;
  std::uint8_t status_ = kStatusSystemFlag;
  std::uint8_t control_ = 0x01 | 0x04 | 0x40;  // kbd interrupt, system flag, translation
  std::uint8_t output_ = 0;
  std::uint8_t pending_command_ = 0;           // command waiting for its data byte
};

}  // namespace vitrine::hv::kvm
