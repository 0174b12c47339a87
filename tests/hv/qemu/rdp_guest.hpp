// QemuRdpGuest: a QEMU TCG guest serving RDP, for bench_e2e's QEMU cases and hv_qemu_rdp_test.
// Booted by vitrine-vmm --backend qemu (ivshmem-doorbell bus) from Debian's kernel and an initramfs holding
// rail_bench_server and vitrine-guest with their shared libraries. The guest's RDP server
// (127.0.0.1 and 10.0.2.15, port kGuestPort) is reachable two ways:
//
//   bus   HostMux on the VM's bus -> vitrine-guest (relay, in the guest) -> 127.0.0.1:kGuestPort
//   net   TCP 127.0.0.1:net_port() on this machine -> QEMU user networking (slirp, hostfwd from
//         the config's vm.user_net_forward) -> virtio-net-pci -> the guest's 10.0.2.15:kGuestPort
//
// The host side is wired as cli's VmSession wires it (HostMux sleeping on the bus's wake_host
// eventfd); VITRINE_E2E_HOST_POLL=1 makes it poll instead (a diagnosis, see the .cpp).
//
// create() returns only once both are usable (the relay said hello; the server accepted a
// connection through the bus), or says why not: no QEMU, no guest image (the Debian archive is
// needed once to build it), boot failure (with the VM's logs).
#pragma once

#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "vitrine/rdpmux/mux/host_mux.hpp"
#include "vmm_harness.hpp"

namespace vitrine::hv::test {

class QemuRdpGuest {
 public:
  static constexpr std::uint16_t kGuestPort = 3390;

  // `mux_options`: for the host's HostMux (e.g. on_stamp for the guest's timestamps).
  static std::expected<std::unique_ptr<QemuRdpGuest>, std::string> create(rdpmux::HostMuxOptions mux_options = {});
  ~QemuRdpGuest();
  QemuRdpGuest(const QemuRdpGuest&) = delete;
  QemuRdpGuest& operator=(const QemuRdpGuest&) = delete;

  rdpmux::HostMux& mux() { return *mux_; }
  // The host end of the hostfwd rule (127.0.0.1).
  std::uint16_t net_port() const { return net_port_; }
  // Seconds from vitrine-vmm's start to the guest's server answering through the bus.
  double boot_seconds() const { return boot_seconds_; }
  // The vmm, QEMU and serial logs, for failure messages.
  std::string logs() const { return vm_->logs(); }

 private:
  QemuRdpGuest() = default;
  std::unique_ptr<VmmHarness> vm_;
  std::unique_ptr<rdpmux::HostMux> mux_;  // after vm_: destroyed before the bus it uses
  std::uint16_t net_port_ = 0;
  double boot_seconds_ = 0;
};

}  // namespace vitrine::hv::test
