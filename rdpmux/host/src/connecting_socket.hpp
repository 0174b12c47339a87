// The socket on which the calling thread is inside freerdp_connect(), for the fast-connect
// Sleep() (winpr_connect_sleep.cpp). Private to rdpmux/host: RdpClient::Session::run() marks it,
// the Sleep() linked into the executables that connect FreeRDP clients reads it.
#pragma once

namespace vitrine::rdpmux::host {

// The connecting socket of this thread, or -1 when the thread is not connecting a session.
int connecting_socket() noexcept;

}  // namespace vitrine::rdpmux::host
