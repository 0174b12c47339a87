// VmConfig: one VM's TOML configuration (toml++), validated field by field. Every error names
// the offending field with its dotted TOML path ("bus.size", "sandbox.program[1].command").
//
//   name = "demo"                     # [a-zA-Z0-9._-]{1,64}
//   backend = "sandbox"               # sandbox | qemu | kvm
//   log_dir = "logs"                  # optional; relative paths are relative to the file
//   [bus]
//   size = 16777216                   # bytes, power of two (an ivshmem BAR), holds every ring
//   channels = 4                      # 1..256; channel 0 is control
//   ring_size = 1048576               # bytes per direction, power of two, 4 KiB..1 GiB
//   h2g_ring_size / g2h_ring_size     # optional per-direction override of ring_size
//   [guest]
//   rdp_target = "tcp:3389"           # tcp:PORT or unix:/ABSOLUTE/PATH inside the guest
//   [vm]                              # qemu and kvm backends only (required there)
//   kernel = "vmlinuz"                # must exist
//   initramfs = "initramfs.img"       # must exist
//   cmdline = "console=ttyS0 quiet"
//   memory_mib = 512                  # 64..65536
//   vcpus = 1                         # 1..64
//   accel = "auto"                    # auto | kvm | tcg   (qemu)
//   doorbell = "ivshmem-doorbell"     # ivshmem-doorbell | ivshmem-plain   (qemu)
//   qemu = "qemu-system-x86_64"       # binary (qemu)
//   progress_timeout = 60             # seconds (kvm): no exit to user space and no console byte
//                                     # by then ends the VM with an error; 0 = never
//   user_net = false                  # add virtio-net with user networking (benchmarks only)
//   user_net_forward = ["tcp:127.0.0.1:5555-:3389"]   # QEMU hostfwd rules (needs user_net):
//                                     # tcp|udp:[HOSTIPv4]:HOSTPORT-[GUESTIPv4]:GUESTPORT, 16 at most
//   [sandbox]                         # sandbox backend (required there)
//   hostname = "vitrine-guest"
//   [[sandbox.program]]
//   name = "relay"                    # [a-zA-Z0-9._-]{1,64}, unique
//   command = ["vitrine-guest"]       # argv, non-empty; looked up in PATH
//   restart = "on-failure"            # never | on-failure | always
//   [display]                         # how the host marks this VM's windows (all optional)
//   label_colour = "#cc0000"          # border colour, #RRGGBB; default: one of 8 distinct
//                                     # colours picked by the VM name (default_label_rgb)
//   title_prefix = "[demo] "          # before every window title; default "[NAME] ";
//                                     # 64 bytes at most, no control characters
//   border_px = 2                     # 0..32; a window covering a monitor gets 2 at least
// Unknown keys are errors too (a typo must not silently fall back to a default).
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vitrine/ringbus/bus.hpp"

namespace vitrine::hv {

enum class BackendKind : std::uint8_t { kSandbox, kQemu, kKvm };
enum class Accel : std::uint8_t { kAuto, kKvm, kTcg };
enum class DoorbellMode : std::uint8_t { kIvshmemDoorbell, kIvshmemPlain };
enum class RestartPolicy : std::uint8_t { kNever, kOnFailure, kAlways };

std::string_view backend_name(BackendKind kind);
std::string_view restart_name(RestartPolicy policy);

struct ConfigError {
  std::string field;    // dotted TOML path, or "" for a file-level problem (syntax, I/O)
  std::string message;  // what is wrong, with the offending value
  std::string to_string() const;
};

struct SandboxProgram {
  std::string name;
  std::vector<std::string> command;
  RestartPolicy restart = RestartPolicy::kOnFailure;
};

// [display]: the VM's label on the host (viewer: compositor::WindowLabel).
struct DisplayLabel {
  std::uint32_t label_rgb = 0;  // 0xRRGGBB
  std::string title_prefix;
  std::int32_t border_px = 2;
  static constexpr std::int32_t kMaxBorderPx = 32;
  static constexpr std::size_t kMaxPrefixBytes = 64;
};

// The default label colour of a VM: one of 8 well-separated colours, chosen by a hash of its
// name, so that two VMs left at their defaults most likely differ.
std::uint32_t default_label_rgb(std::string_view vm_name);

struct VmConfig {
  std::string name = "vm";
  BackendKind backend = BackendKind::kSandbox;
  std::filesystem::path log_dir;  // absolute after parsing; empty = vmm picks a runtime dir

  // [bus]
  std::uint64_t bus_size = 16u << 20;
  std::uint32_t channels = 4;
  std::uint32_t h2g_log2 = 20;
  std::uint32_t g2h_log2 = 20;
  // Bytes of window-pixel pool after the rings; 0: no surfaces (windows' pixels go over RDP).
  // The last channel then carries the surface messages and no RDP connection.
  std::uint64_t surface_pool = 0;

  // [guest]
  std::string rdp_target = "tcp:3389";

  // [vm]
  std::filesystem::path kernel;
  std::filesystem::path initramfs;
  std::string cmdline = "console=ttyS0 quiet panic=-1";
  std::uint32_t memory_mib = 512;
  std::uint32_t vcpus = 1;
  Accel accel = Accel::kAuto;
  DoorbellMode doorbell = DoorbellMode::kIvshmemDoorbell;
  std::string qemu_binary = "qemu-system-x86_64";
  std::uint32_t progress_timeout_s = 60;
  bool user_net = false;
  // Validated QEMU hostfwd rules ("tcp:127.0.0.1:5555-:3389"), one `hostfwd=` each on -netdev user.
  std::vector<std::string> user_net_forwards;

  // [display] (defaults filled in from `name` by the parser)
  DisplayLabel display{default_label_rgb("vm"), "[vm] ", 2};

  // [sandbox]
  std::string hostname = "vitrine-guest";
  std::vector<SandboxProgram> programs;

  // The ringbus geometry this config asks for.
  ringbus::BusConfig bus_config() const;
};

// Parses TOML text; relative paths resolve against `base_dir`; file existence is checked.
std::expected<VmConfig, ConfigError> parse_vm_config(std::string_view toml,
                                                     const std::filesystem::path& base_dir);
// Reads and parses a file (base_dir = the file's folder).
std::expected<VmConfig, ConfigError> load_vm_config(const std::filesystem::path& file);

}  // namespace vitrine::hv
