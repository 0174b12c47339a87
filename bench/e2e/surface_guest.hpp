// SurfaceGuest: the guest half of the surface benchmarks, made of the product's programs the way
// the demo's sandbox guest runs them (cli/src/demo_guest.cpp), minus the namespaces:
//
//   Xvfb (a private display)                         the guest's X server
//   vitrine-guest   --bus-fd 3 --doorbell-fds 4,5    the relay (RDP over the bus, io_uring)
//   vitrine-appserver --display :N --port 0 --bus-fd 3 --doorbell-fds 4,5
//                                                    RemoteApp server + surface publisher
//
// The bus is the demo's (hv::VmBus from the demo's [bus] section: 128 MiB, 8 channels, 1 MiB
// rings, 96 MiB surface pool) and reaches both programs as the sandbox hands it over: region at
// fd 3, guest and host doorbells at fds 4 and 5. The sandbox's pid/net/mount namespaces are left
// out: they change no byte of the data path (the same memfd, eventfds and loopback TCP) and
// would hide the guest's X display from the benchmark's X client (StampWindow), which plays the
// guest application.
#pragma once

#include "support/surface_counters_line.hpp"
#include "vitrine/rdpmux/target.hpp"

#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "support/child_process.hpp"
#include "support/xvfb.hpp"
#include "vitrine/hv/vm_bus.hpp"

namespace vitrine::bench {

class SurfaceGuest {
 public:
  static constexpr int kDesktopWidth = 1024;
  static constexpr int kDesktopHeight = 768;

  // Starts everything; the error says what is missing or failed (the caller skips with it).
  // `log_dir`: the programs' stderr goes to appserver.log and relay.log there. `surfaces` false:
  // the appserver runs with --no-surfaces (every pixel over RDP, its default planar codec), the
  // baseline that the same application gets from the same server without surfaces.
  static std::expected<std::unique_ptr<SurfaceGuest>, std::string> start(const std::filesystem::path& log_dir,
                                                                         bool surfaces = true);
  ~SurfaceGuest();
  SurfaceGuest(const SurfaceGuest&) = delete;
  SurfaceGuest& operator=(const SurfaceGuest&) = delete;

  hv::VmBus& bus() { return *bus_; }
  [[nodiscard]] const std::string& display() const { return xvfb_->display(); }
  // Where the relay reaches the appserver: its Unix socket, as in the demo (--unix).
  [[nodiscard]] rdpmux::Target rdp_target() const { return rdpmux::Target::unix_socket(socket_.string()); }
  // Whether the appserver reported that its X server writes into the bus itself ("zero-copy
  // true" in its log once the host announced itself); nullopt: no such line (yet).
  [[nodiscard]] std::optional<bool> zero_copy_logged() const;
  // The appserver's surface counters, asked for with SIGUSR1 (it logs one "surfaces: ..." line
  // on its next turn); nullopt when no line came within a few seconds.
  [[nodiscard]] std::optional<appserver::testing::SurfaceCountersLine> guest_copies();
  // Both programs still run (a crash would otherwise show up as a timeout).
  bool running();

 private:
  SurfaceGuest() = default;

  std::filesystem::path log_dir_;
  std::unique_ptr<appserver::testing::Xvfb> xvfb_;
  std::optional<hv::VmBus> bus_;
  appserver::testing::ChildProcess relay_;
  appserver::testing::ChildProcess appserver_;
  std::filesystem::path socket_;
};

}  // namespace vitrine::bench
