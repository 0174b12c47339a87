// QemuSurfaceGuest: a QEMU TCG guest running the surface path of design.md ("Two pixel paths")
// over ivshmem, for hv_qemu_surface_test and bench_e2e's QEMU surface cases. Booted by
// vitrine-vmm --backend qemu from Debian's kernel and an initramfs holding, with their shared
// libraries (ldd, as rdp_guest.hpp's image):
//
//   vitrine-guest --ivshmem              the relay (RDP over the bus)
//   Xvfb :0 1024x768x24 (+ xkbcomp and /usr/share/X11/xkb: Xvfb compiles its keymap at start
//                        with them and exits without; fonts: Debian's Xvfb has "built-ins" on its
//                        default font path, so no font files are needed)
//   hv_surface_stamp_app :0              the X application (surface_stamp_protocol.hpp)
//   vitrine-appserver --display :0 --port kGuestPort --ivshmem auto
//                                        RemoteApp server + surface publisher; its X server
//                                        attaches the BAR (sysfs resource2) for MIT-SHM
//
// on a bus with a surface pool ([bus] surface_pool; the pool is part of the ivshmem BAR). The
// host side (HostMux, RdpClient, SurfaceReceiver) is the caller's: this class creates no HostMux,
// so that a caller may wire the bus exactly as the product does.
//
// create() returns once the appserver listens and the application's window is mapped (both
// print a line on the guest's serial console; the relay starts first, so it said hello long
// before), or says why not: no QEMU, no guest image (the Debian archive is needed once to build
// it), no Xvfb on this machine to copy, boot failure (with the VM's logs).
#pragma once

#include "support/surface_counters_line.hpp"

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>

#include "vmm_harness.hpp"

namespace vitrine::hv::test {

class QemuSurfaceGuest {
 public:
  static constexpr std::uint16_t kGuestPort = 3390;

  static std::expected<std::unique_ptr<QemuSurfaceGuest>, std::string> create();
  ~QemuSurfaceGuest();
  QemuSurfaceGuest(const QemuSurfaceGuest&) = delete;
  QemuSurfaceGuest& operator=(const QemuSurfaceGuest&) = delete;

  VmBus& bus() { return vm_->bus(); }
  // The application's X window (the appserver names the RAIL window and its surface after it).
  [[nodiscard]] std::uint32_t window() const { return window_; }
  // Seconds from vitrine-vmm's start to the appserver listening with the window mapped.
  [[nodiscard]] double boot_seconds() const { return boot_seconds_; }
  // The guest's serial console so far (the guest programs' stdout and stderr).
  [[nodiscard]] std::string serial() const;
  // The vmm, QEMU and serial logs, for failure messages.
  [[nodiscard]] std::string logs() const { return vm_->logs(); }
  // Ok while the VM runs.
  bool alive() { return vm_->alive().has_value(); }

  // From the appserver's last "surfaces: the host reads window surfaces (session N, zero-copy B)"
  // line: whether its X server writes into the BAR itself; nullopt: no such line yet.
  [[nodiscard]] std::optional<bool> zero_copy_logged() const;
  // The appserver's surface counters from its last statistics line (it logs one when a session
  // ends; a host cannot send a guest process SIGUSR1).
  using Copies = appserver::testing::SurfaceCountersLine;
  [[nodiscard]] std::optional<Copies> last_copies() const;
  // The number of statistics lines so far (to wait for the next one).
  [[nodiscard]] std::size_t copies_lines() const;

 private:
  QemuSurfaceGuest() = default;
  std::unique_ptr<VmmHarness> vm_;
  std::uint32_t window_ = 0;
  double boot_seconds_ = 0;
};

}  // namespace vitrine::hv::test
