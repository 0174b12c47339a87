// Decoding of a KVM_RUN exit into a value (Firecracker's VcpuExit). A free function over the
// shared kvm_run page, so tests feed it hand-made kvm_run structures; the page is written by
// the kernel but its io.data_offset is still bounds-checked against the mapping size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

struct kvm_run;

namespace vitrine::hv::kvm {

struct ExitIoIn { std::uint16_t port; std::span<std::uint8_t> data; };         // fill data
struct ExitIoOut { std::uint16_t port; std::span<const std::uint8_t> data; };
struct ExitMmioRead { std::uint64_t addr; std::span<std::uint8_t> data; };     // fill data
struct ExitMmioWrite { std::uint64_t addr; std::span<const std::uint8_t> data; };
struct ExitHlt {};
struct ExitShutdown {};        // triple fault (or a guest-requested shutdown on AMD)
struct ExitInterrupted {};     // KVM_EXIT_INTR or EINTR: a signal asked the thread to look up
struct ExitSystemEvent { std::uint32_t type; };  // KVM_SYSTEM_EVENT_{SHUTDOWN,RESET,CRASH}
struct ExitFailEntry { std::uint64_t hardware_reason; };
struct ExitInternalError { std::uint32_t suberror; };
struct ExitUnsupported { std::uint32_t reason; std::string what; };

using VcpuExit = std::variant<ExitIoIn, ExitIoOut, ExitMmioRead, ExitMmioWrite, ExitHlt, ExitShutdown,
                              ExitInterrupted, ExitSystemEvent, ExitFailEntry, ExitInternalError,
                              ExitUnsupported>;

// `run` points at the vCPU's mmapped kvm_run page of `run_size` bytes. Port I/O with a string
// count (rep ins/outs) is returned as one access of size*count bytes only when count == 1;
// string I/O is decoded as ExitUnsupported (Linux does not use it on the devices here).
VcpuExit decode_exit(kvm_run* run, std::size_t run_size);

const char* exit_name(const VcpuExit& exit);

}  // namespace vitrine::hv::kvm
