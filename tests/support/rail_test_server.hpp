// RailTestServer: a deterministic RemoteApp (RAIL) server for tests, on FreeRDP's server
// library. It serves ONE connection on a socket it is given (one end of a socketpair, an
// accepted TCP socket, or the guest side of a bus pump) on its own thread.
//
// Tests script it: windows (create, move, resize, retitle, icon, popup with owner, minimize,
// delete), desktop z-order/activation, and paints of known pixels sent as uncompressed
// SurfaceBits (lossless, so the client's framebuffer must match exactly). Everything the
// client sends (keyboard, unicode, mouse, RAIL activate/syscommand/window-move/exec) is recorded
// so tests assert scancodes and coordinates. Bad-input helpers send absurd orders or raw bytes.
//
// A test fixture, not the product's guest server (that is guest/appserver).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vitrine::testing {

struct RailServerConfig {
  bool tls = false;             // TLS (needs cert/key files) or standard RDP security, no encryption
  std::string certificate_file{};  // PEM
  std::string key_file{};          // PEM
  bool remote_app = true;        // advertise RAIL
  // wait_ready() waits for the client's Client Execute; false: for its system parameters (a
  // client that reconnects with no program sends no Client Execute).
  bool expect_exec = true;
  // A Client Execute for exactly this program is answered with `failing_result` (a
  // RAIL_EXEC_E_* code) and `failing_raw`; every other program with RAIL_EXEC_S_OK.
  std::string failing_program{};
  std::uint16_t failing_result = 5;   // RAIL_EXEC_E_FILE_NOT_FOUND
  std::uint32_t failing_raw = 2;      // ERROR_FILE_NOT_FOUND
};

struct ServerWindow {
  std::uint32_t id = 0;
  std::uint32_t owner = 0;
  std::uint32_t style = 0x14CF0000;  // WS_OVERLAPPEDWINDOW | WS_VISIBLE
  std::uint32_t ex_style = 0x00040000;  // WS_EX_APPWINDOW
  std::uint32_t show = 5;            // normal
  std::string title;
  std::int32_t x = 0, y = 0;
  std::uint32_t width = 0, height = 0;
};

// What the client sent, in arrival order.
struct ReceivedInput {
  enum class Kind { kKey, kUnicode, kMouse, kExtendedMouse, kSync, kActivate, kSysCommand, kWindowMove, kExec };
  Kind kind = Kind::kKey;
  std::uint32_t flags = 0;   // keyboard / mouse flags, sync toggles, activate enabled
  std::uint32_t code = 0;    // scancode, UTF-16 unit, syscommand
  std::int32_t x = 0, y = 0; // mouse position; window-move left/top
  std::int32_t right = 0, bottom = 0;
  std::uint32_t window = 0;
  // exec: the program as FreeRDP 2.11's server decodes it. Its rail_read_exec_order decodes
  // ExeOrFile, WorkingDir and Arguments all into RemoteApplicationProgram, so with a working
  // directory or arguments this holds the last non-empty of the three, in that order.
  std::string text;
};

class RailTestServer {
 public:
  // Serves the connection on `fd` (owned from here on).
  static std::unique_ptr<RailTestServer> start(int fd, RailServerConfig config = {});
  ~RailTestServer();
  RailTestServer(const RailTestServer&) = delete;
  RailTestServer& operator=(const RailTestServer&) = delete;

  // The client is active (and, with RAIL, sent its exec order).
  bool wait_ready(std::chrono::milliseconds timeout);
  std::uint32_t desktop_width() const;
  std::uint32_t desktop_height() const;

  // ---- scripted output (run on the server thread; true once sent) ---------------------------
  bool create_window(const ServerWindow& window);
  bool move_window(std::uint32_t id, std::int32_t x, std::int32_t y, std::uint32_t width, std::uint32_t height);
  bool retitle(std::uint32_t id, const std::string& title);
  bool show(std::uint32_t id, std::uint32_t show_state);
  // A width x height 32-bpp icon, every pixel `bgra`; stored in cache slot (cache_id, entry).
  bool set_icon(std::uint32_t id, std::uint32_t width, std::uint32_t height, std::uint32_t bgra,
                std::uint8_t cache_id, std::uint16_t cache_entry, bool big);
  bool set_cached_icon(std::uint32_t id, std::uint8_t cache_id, std::uint16_t cache_entry, bool big);
  bool delete_window(std::uint32_t id);
  bool desktop(std::uint32_t active, const std::vector<std::uint32_t>& z_order);
  // Fills the rectangle with pixel(x, y) = pattern(x, y) (BGRX, desktop coordinates).
  bool paint(std::int32_t x, std::int32_t y, std::uint32_t width, std::uint32_t height,
             const std::function<std::uint32_t(std::int32_t, std::int32_t)>& pattern);
  // A window order with a raw width (absurd sizes) bypassing nothing in FreeRDP's encoder.
  bool create_raw_window(std::uint32_t id, std::uint32_t width, std::uint32_t height);
  // Bytes straight onto the wire (malformed PDUs), then optionally close the socket.
  bool send_raw(const std::vector<std::uint8_t>& bytes, bool close_after);
  // Ends the connection from the server side.
  void disconnect();
  // Runs `action` on the server thread (advanced scripts); true if it returned true.
  bool run(std::function<bool()> action);

  // ---- recorded input ----------------------------------------------------------------------
  std::vector<ReceivedInput> input() const;
  // Waits until `pred(input())` holds.
  bool wait_input(const std::function<bool(const std::vector<ReceivedInput>&)>& pred,
                  std::chrono::milliseconds timeout) const;
  bool ended() const;

  class Impl;

 private:
  explicit RailTestServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Standard BGRX test pattern: a function of the position and a frame counter.
inline std::uint32_t test_pattern(std::int32_t x, std::int32_t y, std::uint32_t frame = 0) {
  return 0xFF000000u | ((static_cast<std::uint32_t>(x) * 7 + frame) & 0xFF) << 16 |
         ((static_cast<std::uint32_t>(y) * 13) & 0xFF) << 8 | ((static_cast<std::uint32_t>(x ^ y) + frame * 3) & 0xFF);
}

}  // namespace vitrine::testing
