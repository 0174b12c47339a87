// RdpClient: the public face of a session; input is encoded here (MS-RDPBCGR 2.2.8.1.1.3)
// and sent on the session thread.
#include "vitrine/rdpmux/host/rdp_client.hpp"

#include <freerdp/input.h>
#include <freerdp/rail.h>
#include <freerdp/scancode.h>
#include <sys/socket.h>

#include <algorithm>

#include "keyboard_layout_detect.hpp"
#include "rdp_session.hpp"

namespace vitrine::rdpmux::host {
namespace {

UINT16 clamp_coordinate(std::int32_t v) { return static_cast<UINT16>(std::clamp<std::int32_t>(v, 0, 0xFFFF)); }
INT16 clamp_rail(std::int32_t v) { return static_cast<INT16>(std::clamp<std::int32_t>(v, -32768, 32767)); }

// kAuto by the family of the socket FreeRDP will talk through (BulkCompression says why). A
// socket whose family cannot be read keeps FreeRDP's default, on.
BulkCompression resolve_compression(BulkCompression wanted, int fd) {
  if (wanted != BulkCompression::kAuto) return wanted;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return BulkCompression::kOn;
  return addr.ss_family == AF_UNIX ? BulkCompression::kOff : BulkCompression::kOn;
}

}  // namespace

// Input goes out on the session thread, once FreeRDP's input object exists.
template <typename F>
static void post_input_to(RdpClient::Session& session, F f) {
  session.post([f = std::move(f)](RdpClient::Session& s) {
    freerdp* inst = s.instance();
    if (inst && inst->input) f(inst->input);
  });
}

std::string_view exec_result_name(std::uint16_t exec_result) {
  switch (exec_result) {
    case RAIL_EXEC_S_OK: return "RAIL_EXEC_S_OK";
    case RAIL_EXEC_E_HOOK_NOT_LOADED: return "RAIL_EXEC_E_HOOK_NOT_LOADED";
    case RAIL_EXEC_E_DECODE_FAILED: return "RAIL_EXEC_E_DECODE_FAILED";
    case RAIL_EXEC_E_NOT_IN_ALLOWLIST: return "RAIL_EXEC_E_NOT_IN_ALLOWLIST";
    case RAIL_EXEC_E_FILE_NOT_FOUND: return "RAIL_EXEC_E_FILE_NOT_FOUND";
    case RAIL_EXEC_E_FAIL: return "RAIL_EXEC_E_FAIL";
    case RAIL_EXEC_E_SESSION_LOCKED: return "RAIL_EXEC_E_SESSION_LOCKED";
    default: return "unknown RAIL exec result";
  }
}

RdpClient::RdpClient(std::unique_ptr<Session> session) : session_(std::move(session)) {}
RdpClient::~RdpClient() { stop(); }

Result<std::unique_ptr<RdpClient>> RdpClient::start(ClientConfig config, ringbus::UniqueFd socket,
                                                    DisplaySink& display, WindowEvents& windows) {
  if (!socket) return fail(Errc::kConfig, "RdpClient needs a connected socket");
  config.bulk_compression = resolve_compression(config.bulk_compression, socket.get());
  auto session = std::make_unique<Session>(std::move(config), std::move(socket), display, windows);
  // Configured here, on the caller's thread, so that the context exists before the session
  // thread does (stop() reads it from any thread).
  if (auto configured = session->configure(); !configured) return std::unexpected(configured.error());
  session->start_thread();
  return std::unique_ptr<RdpClient>(new RdpClient(std::move(session)));
}

Result<void> RdpClient::wait_connected(std::chrono::milliseconds timeout) { return session_->wait_connected(timeout); }
bool RdpClient::wait_ended(std::chrono::milliseconds timeout) { return session_->wait_ended(timeout); }
bool RdpClient::running() const { return session_->running(); }
std::optional<Error> RdpClient::error() const { return session_->error(); }
void RdpClient::stop() { session_->stop(); }
ClientStats RdpClient::stats() const { return session_->stats(); }
bool RdpClient::bulk_compression() const { return session_->config().bulk_compression == BulkCompression::kOn; }
Result<void> RdpClient::exec(const ExecRequest& request, std::chrono::milliseconds timeout) {
  return session_->exec(request, timeout);
}

void RdpClient::key(Scancode code, bool down) {
  post_input_to(*session_, [code, down](rdpInput* input) {
    freerdp_input_send_keyboard_event_ex(input, down, MAKE_RDP_SCANCODE(code.code, code.extended));
  });
}

void RdpClient::unicode(char32_t cp, bool down) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return;  // not a code point
  post_input_to(*session_, [cp, down](rdpInput* input) {
    const UINT16 flags = down ? 0 : KBD_FLAGS_RELEASE;
    if (cp < 0x10000) {
      freerdp_input_send_unicode_keyboard_event(input, flags, static_cast<UINT16>(cp));
    } else {
      const char32_t v = cp - 0x10000;
      freerdp_input_send_unicode_keyboard_event(input, flags, static_cast<UINT16>(0xD800 + (v >> 10)));
      freerdp_input_send_unicode_keyboard_event(input, flags, static_cast<UINT16>(0xDC00 + (v & 0x3FF)));
    }
  });
}

void RdpClient::sync_locks(LockState locks) {
  post_input_to(*session_, [locks](rdpInput* input) {
    UINT32 flags = 0;
    if (locks.scroll) flags |= KBD_SYNC_SCROLL_LOCK;
    if (locks.num) flags |= KBD_SYNC_NUM_LOCK;
    if (locks.caps) flags |= KBD_SYNC_CAPS_LOCK;
    if (locks.kana) flags |= KBD_SYNC_KANA_LOCK;
    freerdp_input_send_synchronize_event(input, flags);
  });
}

void RdpClient::mouse_move(DesktopPoint at) {
  post_input_to(*session_, [at](rdpInput* input) {
    freerdp_input_send_mouse_event(input, PTR_FLAGS_MOVE, clamp_coordinate(at.x), clamp_coordinate(at.y));
  });
}

void RdpClient::mouse_button(MouseButton button, bool down, DesktopPoint at) {
  post_input_to(*session_, [button, down, at](rdpInput* input) {
        const UINT16 x = clamp_coordinate(at.x);
    const UINT16 y = clamp_coordinate(at.y);
    switch (button) {
      case MouseButton::kLeft:
        freerdp_input_send_mouse_event(input, static_cast<UINT16>(PTR_FLAGS_BUTTON1 | (down ? PTR_FLAGS_DOWN : 0)), x, y);
        break;
      case MouseButton::kRight:
        freerdp_input_send_mouse_event(input, static_cast<UINT16>(PTR_FLAGS_BUTTON2 | (down ? PTR_FLAGS_DOWN : 0)), x, y);
        break;
      case MouseButton::kMiddle:
        freerdp_input_send_mouse_event(input, static_cast<UINT16>(PTR_FLAGS_BUTTON3 | (down ? PTR_FLAGS_DOWN : 0)), x, y);
        break;
      case MouseButton::kX1:
        freerdp_input_send_extended_mouse_event(input, static_cast<UINT16>(PTR_XFLAGS_BUTTON1 | (down ? PTR_XFLAGS_DOWN : 0)), x, y);
        break;
      case MouseButton::kX2:
        freerdp_input_send_extended_mouse_event(input, static_cast<UINT16>(PTR_XFLAGS_BUTTON2 | (down ? PTR_XFLAGS_DOWN : 0)), x, y);
        break;
    }
  });
}

void RdpClient::wheel(WheelAxis axis, int delta, DesktopPoint at) {
  post_input_to(*session_, [axis, delta, at](rdpInput* input) {
    // MS-RDPBCGR 2.2.8.1.1.3.1.1.3: 9-bit two's-complement rotation per event (|v| <= 255);
    // larger deltas go as several events.
    int left = delta;
    while (left != 0) {
      const int step = std::clamp(left, -255, 255);
      left -= step;
      UINT16 flags = axis == WheelAxis::kVertical ? PTR_FLAGS_WHEEL : PTR_FLAGS_HWHEEL;
      if (step < 0) flags |= static_cast<UINT16>(PTR_FLAGS_WHEEL_NEGATIVE | ((0x200 + step) & 0xFF));
      else flags |= static_cast<UINT16>(step & 0xFF);
      freerdp_input_send_mouse_event(input, flags, clamp_coordinate(at.x), clamp_coordinate(at.y));
    }
  });
}

void RdpClient::keyboard_layout_changed(std::uint32_t klid) {
  if (klid == 0) klid = detect_host_keyboard_layout();  // here: the session thread never waits on X
  session_->post([klid](Session& s) {
    RailClientContext* rail = s.rail();
    if (!rail) return;
    RAIL_LANGUAGEIME_INFO_ORDER info{};
    info.ProfileType = TF_PROFILETYPE_KEYBOARDLAYOUT;  // a plain layout, no IME (MS-RDPERP 2.2.2.2.3)
    info.LanguageID = static_cast<UINT16>(klid & 0xffff);
    info.KeyboardLayout = klid;
    rail->ClientLanguageIMEInfo(rail, &info);
  });
}

void RdpClient::activate(WindowId window, bool active) {
  session_->post([window, active](Session& s) {
    RailClientContext* rail = s.rail();
    if (!rail) return;
    RAIL_ACTIVATE_ORDER order{window, active ? TRUE : FALSE};
    rail->ClientActivate(rail, &order);
  });
}

void RdpClient::system_command(WindowId window, SystemCommand command) {
  session_->post([window, command](Session& s) {
    RailClientContext* rail = s.rail();
    if (!rail) return;
    RAIL_SYSCOMMAND_ORDER order{window, static_cast<UINT16>(command)};
    rail->ClientSystemCommand(rail, &order);
  });
}

void RdpClient::window_move(WindowId window, DesktopRect frame) {
  session_->post([window, frame](Session& s) {
    RailClientContext* rail = s.rail();
    if (!rail) return;
    RAIL_WINDOW_MOVE_ORDER order{};
    order.windowId = window;
    order.left = clamp_rail(frame.x);
    order.top = clamp_rail(frame.y);
    order.right = clamp_rail(frame.x + static_cast<std::int32_t>(std::min<std::uint32_t>(frame.width, 65535)));
    order.bottom = clamp_rail(frame.y + static_cast<std::int32_t>(std::min<std::uint32_t>(frame.height, 65535)));
    rail->ClientWindowMove(rail, &order);
  });
}

}  // namespace vitrine::rdpmux::host
