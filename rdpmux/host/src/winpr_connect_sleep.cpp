// WinPR's Sleep() replaced for fast RDP connects. Built as the OBJECT library
// vitrine::rdpmux_connect_sleep (rdpmux/host/CMakeLists.txt), which only the executables that
// connect FreeRDP clients link explicitly: the `vitrine` command and the tests and benchmarks
// that open RDP sessions. It used to be defined in rdp_session.cpp, inside the static library,
// and so replaced WinPR's Sleep in every program that linked rdpmux_host.
//
// Why: FreeRDP 2.11's rdp_client_connect() (connection.c) waits for each reply of the MCS,
// licensing and capability exchange with `rdp_check_fds(); Sleep(100);` in a loop, and WinPR's
// Sleep is a plain usleep: every request/response round trip whose answer is not there within
// microseconds costs 100 ms (about 10 of them: ~1.1 s per connect, measured with strace; the
// server answered within 1.5 ms). A definition in the executable precedes libwinpr2's for the
// whole process (CMake also exports it: --export-dynamic-symbol), so this one replaces it: on a
// thread inside freerdp_connect() (RdpClient::Session::run marks its socket, connecting_socket())
// it sleeps until the socket is readable (at most the asked time), everywhere else it is WinPR's
// usleep. FreeRDP's loop counts iterations, not time, so the session raises TcpAckTimeout to
// keep the same patience.
#include <poll.h>
#include <unistd.h>
#include <winpr/synch.h>

#include <algorithm>

#include "connecting_socket.hpp"

extern "C" WINPR_API VOID Sleep(DWORD dwMilliseconds) {
  if (const int fd = vitrine::rdpmux::host::connecting_socket(); fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    (void)::poll(&p, 1, static_cast<int>(std::min<DWORD>(dwMilliseconds, 60'000)));
    return;
  }
  ::usleep(static_cast<useconds_t>(dwMilliseconds) * 1000u);
}
