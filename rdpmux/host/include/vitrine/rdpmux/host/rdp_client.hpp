// RdpClient: one FreeRDP 2.11 client session on a socket the caller connected (one end of a
// socketpair whose other end a ConnectionBridge pumps, or a TCP socket for the baseline).
//
//   auto client = RdpClient::start(config, std::move(socket), display, windows);
//   client->wait_connected(5s);   // Result<void>: a clear error if the handshake failed
//   client->key({0x1E, false}, true);   // input from any thread, sent on the session thread
//   ...
//   client->stop();
//
// FreeRDP gets the socket through settings ServerHostname = "|" and ServerPort = fd (its only
// way to use an external socket in 2.11); it owns and closes it. Exactly one security protocol
// is enabled (TLS with the certificate pinned per VM, or standard RDP security) and
// auto-reconnect is off: FreeRDP's fallbacks reconnect, which an external fd cannot do.
// Reconnecting after the guest's server restarted is RemoteSession's job (remote_session.hpp):
// it opens a new connection through the bus and starts a new RdpClient.
//
// Threads: FreeRDP runs on the session thread this class starts; DisplaySink and WindowEvents
// are called there. Input methods may be called from any thread: they queue and wake the
// session thread. A server that breaks the protocol or the window-model limits gets its
// connection closed; error() then says why. The process never aborts on server input.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vitrine/rdpmux/host/display_sink.hpp"
#include "vitrine/rdpmux/host/error.hpp"
#include "vitrine/rdpmux/host/input.hpp"
#include "vitrine/rdpmux/host/window_events.hpp"
#include "vitrine/rdpmux/host/window_model.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::rdpmux::host {

enum class Security : std::uint8_t {
  kTls,  // TLS; the server certificate is pinned on first use per VM (CertPinStore)
  kRdp,  // standard RDP security; against a local peer this negotiates no encryption, so only
         // for servers reached over the private bus
};

// RDP bulk compression of the server's output (MS-RDPBCGR 3.1.8; FreeRDP 2.11 sends RDP 6.1:
// MPPC + xcrush). The client asks for it in its Client Info PDU (INFO_COMPRESSION); a FreeRDP
// server adopts that flag as its own setting (info.c), so the client's choice decides for both
// ends. It trades server and client CPU for bytes: a win on a slow network, pure cost on the
// bus, where a byte costs one memcpy (docs/rdpmux.md has the numbers).
enum class BulkCompression : std::uint8_t {
  kAuto,  // by the socket's family: off on AF_UNIX (the socketpair to a ConnectionBridge, a local
          // socket: memory bandwidth), on for AF_INET/AF_INET6 (a network may lie in between)
  kOff,
  kOn,
};

struct ClientConfig {
  Security security = Security::kTls;
  std::string vm_name = "default";   // names the certificate pin
  std::filesystem::path pin_dir;     // where pins live (required for kTls)
  bool remote_app = true;            // RAIL; false: full desktop
  // RemoteApp program ("||alias" or a path) started by the RAIL handshake's Client Execute.
  // Empty: the handshake sends no Client Execute (reconnecting to a server whose applications
  // already run); start programs later with RdpClient::exec().
  std::string program = "||vitrine";
  std::string arguments;
  std::string working_dir;
  std::string username = "vitrine";
  std::string password;
  std::uint32_t width = 1024;   // desktop size requested
  std::uint32_t height = 768;
  WindowModelLimits limits;
  BulkCompression bulk_compression = BulkCompression::kAuto;
  // The keyboard layout the client core data announces (MS-RDPBCGR 2.2.1.3.2 keyboardLayout), a
  // Windows KLID such as 0x00000407 (German); the guest sets its keymap from it, so that the
  // scancodes sent give the host layout's characters. 0: detect it from the host X server's XKB
  // layout ($DISPLAY), US English (0x409) when that fails or is not in the table.
  std::uint32_t keyboard_layout = 0;
  // Called once on the session thread when the session ends (error: why, or empty if stopped).
  std::function<void(const std::optional<Error>&)> on_end;
};

// One more RemoteApp program for a running RAIL session (MS-RDPERP 2.2.2.3.1 Client Execute PDU).
struct ExecRequest {
  std::string program{};      // "||alias" or a path in the guest (a path sets TS_RAIL_EXEC_FLAG_FILE)
  std::string arguments{};    // may be empty
  std::string working_dir{};  // may be empty
};

// MS-RDPERP 2.2.2.3.2 Server Execute Result codes by name ("RAIL_EXEC_E_FILE_NOT_FOUND"), or
// "unknown RAIL exec result" for a value the spec does not define.
std::string_view exec_result_name(std::uint16_t exec_result);

struct ClientStats {
  std::uint64_t paints = 0;        // EndPaint calls with damage
  std::uint64_t damage_rects = 0;
};

class RdpClient {
 public:
  static Result<std::unique_ptr<RdpClient>> start(ClientConfig config, ringbus::UniqueFd socket,
                                                  DisplaySink& display, WindowEvents& windows);
  ~RdpClient();
  RdpClient(const RdpClient&) = delete;
  RdpClient& operator=(const RdpClient&) = delete;

  // Blocks until the RDP connection is up (and, in RemoteApp mode, the RAIL handshake done) or
  // failed. Errc::kConnect / kCertificateChanged / kClosed with FreeRDP's reason on failure.
  Result<void> wait_connected(std::chrono::milliseconds timeout);
  // Blocks until the session ended; value: true if it did within `timeout`.
  bool wait_ended(std::chrono::milliseconds timeout);
  bool running() const;
  // Why the session ended or failed; empty while running or after a clean stop().
  std::optional<Error> error() const;
  // Disconnects and joins the session thread. Idempotent; any thread but the session thread.
  void stop();
  ClientStats stats() const;
  // Whether this client asked the server for bulk compression (ClientConfig::bulk_compression
  // with kAuto resolved). Fixed once start() returned; any thread.
  bool bulk_compression() const;

  // Starts `request.program` in the running RAIL session and blocks until the server's Execute
  // Result (MS-RDPERP 2.2.2.3.2) arrives or `timeout` passes. Any thread except the session
  // thread (not from a DisplaySink/WindowEvents callback); calls are serialized, one request in
  // flight per caller. Errors: kExec (the server refused: the text names the program, the
  // RAIL_EXEC_E_* code and the raw result), kTimeout, kConfig (full-desktop mode, empty program,
  // called on the session thread), kConnect (not connected yet), kClosed (session ended). A
  // refused exec leaves the session running; only a refused handshake program
  // (ClientConfig::program) ends it, with kExec.
  Result<void> exec(const ExecRequest& request, std::chrono::milliseconds timeout);

  // ---- input (any thread; queued, sent in order on the session thread) ----------------------
  void key(Scancode code, bool down);
  void unicode(char32_t code_point, bool down);  // non-BMP code points go as surrogate pairs
  void sync_locks(LockState locks);
  void mouse_move(DesktopPoint at);
  void mouse_button(MouseButton button, bool down, DesktopPoint at);
  // `delta`: 120 per notch; positive = away from the user (vertical) or right (horizontal).
  void wheel(WheelAxis axis, int delta, DesktopPoint at);
  // The host switched keyboard layouts: tells the guest (RAIL Client Language Profile
  // Information PDU, MS-RDPERP 2.2.2.2.3), which sets its keymap again. `klid` as in
  // ClientConfig::keyboard_layout (0: detect now). RemoteApp mode only.
  void keyboard_layout_changed(std::uint32_t klid);
  // RAIL (RemoteApp mode only; ignored in full-desktop mode).
  void activate(WindowId window, bool active);
  void system_command(WindowId window, SystemCommand command);
  // The window's new frame after a host-side move/size (MS-RDPERP 2.2.2.7.4).
  void window_move(WindowId window, DesktopRect frame);

  class Session;  // rdp_session.cpp

 private:
  explicit RdpClient(std::unique_ptr<Session> session);
  std::unique_ptr<Session> session_;
};

}  // namespace vitrine::rdpmux::host
