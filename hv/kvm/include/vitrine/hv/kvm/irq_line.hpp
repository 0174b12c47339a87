// An interrupt line a device raises. The VM's implementation pulses a GSI of the in-kernel
// irqchip (KVM_IRQ_LINE); tests count the calls.
#pragma once

#include <cstdint>

namespace vitrine::hv::kvm {

class IrqLine {
 public:
  virtual ~IrqLine() = default;
  // Edge: assert then deassert. Safe to call from any vCPU thread.
  virtual void trigger() = 0;
};

}  // namespace vitrine::hv::kvm
