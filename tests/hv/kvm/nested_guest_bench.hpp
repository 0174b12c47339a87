// The bench mode of the nested test's inner-guest program (nested_guest_bench.cpp).
#pragma once

#include <string>

#include "vitrine/ringbus/channel.hpp"

namespace vitrine::hv::kvm::nested {

// Measures doorbell exits and bus round trips on `ch` (the host side is nested-launcher
// --serve), sends a kResult record; `device` is the ivshmem device's sysfs directory.
// Returns the process exit status (0 ok).
int run_guest_bench(ringbus::Channel& ch, const std::string& device);

}  // namespace vitrine::hv::kvm::nested
