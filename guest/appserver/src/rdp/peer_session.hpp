// One RDP RemoteApp connection, from the first byte to the disconnect, on the calling thread.
// Glues the capture side (x11::X11Capture) to FreeRDP's server peer: window orders, damaged
// pixels (SurfaceEncoder + update_writer), pointer shapes, input, and the rail channel
// (exec, activate, system commands, local move/size). Owns every FreeRDP object it creates;
// nothing of a session outlives it (the capture and the launcher are the process's).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "../exec/launcher.hpp"
#include "../x11/x11_capture.hpp"
#include "../surface/surface_publisher.hpp"
#include "surface_encoder.hpp"

namespace vitrine::appserver::rdp {

struct SessionOptions {
  Codec codec = Codec::kPlanar;
  // Extra fds to watch: readable `reject_fd` (a listening socket) => accept and close the
  // newcomer, since one client is served at a time. -1: none.
  int reject_fd = -1;
  // Window pixels over the bus's surface channel (nullptr: every pixel over RDP). Windows it
  // covers get no RDP pixels; RemoteApp still carries them.
  surface::SurfacePublisher* surfaces = nullptr;
};

struct SessionStats {
  bool activated = false;
  std::string end_reason;
  uint64_t frames = 0;        // flushes that sent pixels
  uint64_t pixels = 0;        // pixels encoded
  uint64_t payload_bytes = 0; // encoded bytes handed to FreeRDP
  uint64_t input_events = 0;
  uint64_t rail_events = 0;
  uint64_t execs = 0;
};

// Serves the client on `fd` (a connected stream socket; ownership passes to FreeRDP) until it
// disconnects, misbehaves, or `stop` becomes true. Never throws; a hostile client only ends
// its own session.
SessionStats serve_session(int fd, x11::X11Capture& capture, Launcher& launcher,
                           const SessionOptions& options, const std::atomic<bool>& stop);

}  // namespace vitrine::appserver::rdp
