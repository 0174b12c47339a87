// What vitrine-sandbox-init and the sandbox backend agree on: fd numbers, argv, report lines.
//
// Inside the sandbox, guest programs find the bus through inherited fds named by env vars:
//   VITRINE_BUS_FD=3          the bus region (memfd): ringbus::Bus::attach_fd
//   VITRINE_WAKE_GUEST_FD=4   eventfd the guest sleeps on  (the guest's wake_me)
//   VITRINE_WAKE_HOST_FD=5    eventfd the host sleeps on   (the guest's wake_peer)
//   VITRINE_DOORBELL_FDS=4,5  the same in rdpmux::BusDoorbells wire order (guest, host), as
//                             vitrine-guest takes it: vitrine-guest --bus-fd 3 --doorbell-fds 4,5
// and nothing else: stdin is /dev/null, stdout/stderr go to the sandbox log.
#pragma once

namespace vitrine::hv::sandbox {

// fds of vitrine-sandbox-init (pid 1 of the sandbox).
inline constexpr int kInitReportFd = 3;  // pipe to the backend: one line per event
inline constexpr int kInitBusFd = 4;
inline constexpr int kInitWakeGuestFd = 5;
inline constexpr int kInitWakeHostFd = 6;

// fds of every guest program.
inline constexpr int kGuestBusFd = 3;
inline constexpr int kGuestWakeGuestFd = 4;
inline constexpr int kGuestWakeHostFd = 5;

inline constexpr const char* kEnvBusFd = "VITRINE_BUS_FD";
inline constexpr const char* kEnvWakeHostFd = "VITRINE_WAKE_HOST_FD";
inline constexpr const char* kEnvWakeGuestFd = "VITRINE_WAKE_GUEST_FD";
inline constexpr const char* kEnvDoorbellFds = "VITRINE_DOORBELL_FDS";

// init argv: vitrine-sandbox-init --hostname NAME
//                                 { --program NAME RESTART ARGC ARG... }+
// Report lines (init -> backend):
//   started NAME NSPID
//   exited NAME exit CODE | exited NAME signal SIGNO
//   gave-up NAME          (restart back-off exhausted)

}  // namespace vitrine::hv::sandbox
