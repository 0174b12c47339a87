// Counts heap allocations made through operator new anywhere in the test program (the program's
// replacement of the global operator new lives in allocation_counter.cpp). Tests that claim
// "memory does not grow" compare two readings around the work, on one thread.
#pragma once

#include <cstdint>

namespace vitrine::hv::kvm::test {

std::uint64_t allocations();

}  // namespace vitrine::hv::kvm::test
