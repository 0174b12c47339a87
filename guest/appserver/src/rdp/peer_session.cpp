#include "peer_session.hpp"

#include <freerdp/channels/wtsvc.h>
#include <freerdp/freerdp.h>
#include <freerdp/input.h>
#include <freerdp/peer.h>
#include <freerdp/rail.h>
#include <freerdp/settings.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <winpr/synch.h>
#include <winpr/wtsapi.h>

#include <chrono>
#include <memory>
#include <variant>
#include <vector>

#include "input/keyboard_layout_applier.hpp"
#include "vitrine/base/log.hpp"
#include "pointer_sender.hpp"
#include "rail_channel.hpp"
#include "rail_exec_tap.hpp"
#include "update_writer.hpp"
#include "window_orders.hpp"

namespace vitrine::appserver::rdp {
namespace {

constexpr size_t kMaxDamageRects = 128;
// TS_WINDOW_LEVEL_SUPPORTED_EX (MS-RDPERP 2.2.1.1.2): window orders including the client-area
// size field; the client adopts the server's level and drops orders above it.
constexpr UINT32 kWindowLevelSupported = 0x2;
constexpr uint16_t kWmszKeyMove = 0xa;  // RAIL_WMSZ_KEYMOVE (MS-RDPERP 2.2.2.7.3)
constexpr uint16_t kWmszKeySize = 0xb;  // RAIL_WMSZ_KEYSIZE

class Session;

// FreeRDP allocates ContextSize bytes and treats the head as rdpContext.
struct PeerContext {
  rdpContext base;
  Session* session;
};

Session* session_of(rdpContext* c) { return reinterpret_cast<PeerContext*>(c)->session; }

class Session {
 public:
  Session(x11::X11Capture& capture, Launcher& launcher, const SessionOptions& options)
      : capture_(capture), launcher_(launcher), options_(options), keyboard_(capture.display().get()) {}

  ~Session() {
    rail_.reset();  // joins FreeRDP's rail thread before the channel manager goes
    if (vcm_) WTSCloseServer(vcm_);
    if (peer_) {
      if (peer_->context) freerdp_peer_context_free(peer_);
      freerdp_peer_free(peer_);
    }
    capture_.input().release_all();
  }

  SessionStats run(int fd, const std::atomic<bool>& stop);

 private:
  bool setup(int fd);
  bool configure_settings();
  void loop(const std::atomic<bool>& stop);
  bool flush();
  bool send_pixels();
  void handle_rail(const RailEvent& ev);
  void apply_keyboard_layout(uint32_t klid, const char* source);

  static BOOL on_post_connect(freerdp_peer* peer);
  static BOOL on_activate(freerdp_peer* peer);
  static BOOL on_keyboard(rdpInput* input, UINT16 flags, UINT16 code);
  static BOOL on_unicode(rdpInput* input, UINT16 flags, UINT16 code);
  static BOOL on_mouse(rdpInput* input, UINT16 flags, UINT16 x, UINT16 y);
  static BOOL on_extended_mouse(rdpInput* input, UINT16 flags, UINT16 x, UINT16 y);
  static BOOL on_synchronize(rdpInput* input, UINT32 flags);
  static BOOL on_refresh_rect(rdpContext* context, BYTE count, const RECTANGLE_16* areas);
  static BOOL on_suppress_output(rdpContext* context, BYTE allow, const RECTANGLE_16* area);
  static BOOL on_channel_data(freerdp_peer* peer, UINT16 channel_id, const BYTE* data, size_t size, UINT32 flags,
                              size_t total_size);

  x11::X11Capture& capture_;
  Launcher& launcher_;
  SessionOptions options_;
  freerdp_peer* peer_ = nullptr;
  HANDLE vcm_ = nullptr;
  std::unique_ptr<RailChannel> rail_;
  RailExecTap exec_tap_;  // Client Execute orders (FreeRDP 2.11's rail server misparses them)
  psPeerReceiveChannelData receive_channel_data_ = nullptr;  // FreeRDP's, which the tap calls on
  std::unique_ptr<SurfaceEncoder> encoder_;
  std::unique_ptr<PointerSender> pointer_;
  input::KeyboardLayoutApplier keyboard_;  // the guest keymap follows the client's layout
  WindowOrderSender orders_;
  Rect desktop_;
  bool activated_ = false;
  bool suppressed_ = false;
  uint64_t cursor_generation_ = 0;
  uint32_t moving_window_ = 0;
  SessionStats stats_;
};

bool Session::setup(int fd) {
  peer_ = freerdp_peer_new(fd);
  if (!peer_) {
    ::close(fd);
    stats_.end_reason = "freerdp_peer_new failed";
    return false;
  }
  peer_->ContextSize = sizeof(PeerContext);
  if (!freerdp_peer_context_new(peer_)) {
    stats_.end_reason = "freerdp_peer_context_new failed";
    return false;
  }
  reinterpret_cast<PeerContext*>(peer_->context)->session = this;
  // A loopback or bus link inside one machine: RDP standard security with encryption level
  // NONE (platform-notes.md: peer->local). Whoever reaches the socket is trusted, exactly as
  // with XP Mode's guest-local RDP port.
  peer_->local = TRUE;
  if (!configure_settings()) return false;
  peer_->PostConnect = on_post_connect;
  peer_->Activate = on_activate;
  rdpInput* input = peer_->context->input;
  input->KeyboardEvent = on_keyboard;
  input->UnicodeKeyboardEvent = on_unicode;
  input->MouseEvent = on_mouse;
  input->ExtendedMouseEvent = on_extended_mouse;
  input->SynchronizeEvent = on_synchronize;
  peer_->context->update->RefreshRect = on_refresh_rect;
  peer_->context->update->SuppressOutput = on_suppress_output;
  if (!peer_->Initialize(peer_)) {
    stats_.end_reason = "peer initialization failed";
    return false;
  }
  vcm_ = WTSOpenServerA(reinterpret_cast<LPSTR>(peer_->context));
  if (!vcm_ || vcm_ == INVALID_HANDLE_VALUE) {
    vcm_ = nullptr;
    stats_.end_reason = "cannot open the virtual channel manager";
    return false;
  }
  // WTSOpenServer installed the channel manager's receiver: the rail channel's raw data passes
  // the exec tap first (RailExecTap says why).
  receive_channel_data_ = peer_->ReceiveChannelData;
  peer_->ReceiveChannelData = on_channel_data;
  return true;
}

bool Session::configure_settings() {
  rdpSettings* s = peer_->context->settings;
  desktop_ = capture_.desktop();
  s->RdpSecurity = TRUE;
  s->TlsSecurity = FALSE;
  s->NlaSecurity = FALSE;
  s->UseRdpSecurityLayer = TRUE;
  s->EncryptionLevel = ENCRYPTION_LEVEL_NONE;
  s->EncryptionMethods = ENCRYPTION_METHOD_NONE;
  s->ColorDepth = 32;
  s->SurfaceCommandsEnabled = TRUE;
  s->FrameMarkerCommandEnabled = TRUE;
  s->RemoteFxCodec = options_.codec == Codec::kRemoteFx ? TRUE : FALSE;
  s->RefreshRect = TRUE;
  s->SuppressOutput = TRUE;
  s->UnicodeInput = TRUE;
  s->HasHorizontalWheel = TRUE;
  s->HasExtendedMouseEvent = TRUE;
  s->RemoteApplicationMode = TRUE;
  // Without RAIL_LEVEL_SUPPORTED the client silently falls back to a desktop session.
  // LANGUAGE_IME_SYNC: the client may send Language Profile PDUs (MS-RDPERP 2.2.1.1.1); FreeRDP's
  // client sends none without it. The host's layout switches reach the guest keymap that way.
  s->RemoteApplicationSupportLevel = RAIL_LEVEL_SUPPORTED | RAIL_LEVEL_LANGUAGE_IME_SYNC_SUPPORTED;
  s->RemoteWndSupportLevel = kWindowLevelSupported;
  s->RemoteAppNumIconCaches = 3;
  s->RemoteAppNumIconCacheEntries = 12;
  s->DesktopWidth = static_cast<UINT32>(desktop_.width);
  s->DesktopHeight = static_cast<UINT32>(desktop_.height);
  s->AutoReconnectionEnabled = FALSE;
  return true;
}

BOOL Session::on_post_connect(freerdp_peer* peer) {
  Session* self = session_of(peer->context);
  rdpSettings* s = peer->context->settings;
  base::log_info("client connected: {}x{} desktop requested, {} bpp, multifrag {} bytes, RemoteApp {}",
                 s->DesktopWidth, s->DesktopHeight, s->ColorDepth, s->MultifragMaxRequestSize,
                 s->RemoteApplicationMode ? "yes" : "no");
  // The client decided: FreeRDP's server copies the Client Info PDU's INFO_COMPRESSION and level
  // into these settings (info.c), and compresses fast-path output only then. The appserver cannot
  // tell a bus client from a network one (the relay connects locally), the client can: Vitrine's
  // host client asks for none over the bus, where compression costs CPU and saves nothing.
  base::log_info("bulk compression: {}", !s->CompressionEnabled     ? "off (the client did not ask for it)"
                                         : s->CompressionLevel == 0 ? "MPPC 8K (asked by the client)"
                                         : s->CompressionLevel == 1 ? "MPPC 64K (asked by the client)"
                                         : s->CompressionLevel == 2
                                             ? "NCRUSH, RDP 6.0 (asked by the client)"
                                             : "XCRUSH, RDP 6.1 (asked by the client)");
  // The desktop is the guest's X screen; the demand-active PDU that follows carries this size
  // (the client sized its own request from its screen).
  s->DesktopWidth = static_cast<UINT32>(self->desktop_.width);
  s->DesktopHeight = static_cast<UINT32>(self->desktop_.height);
  // The client core data's keyboardLayout (MS-RDPBCGR 2.2.1.3.2), read by FreeRDP's gcc.c. Keys
  // come as positions (scancodes): before the first one, the guest keymap becomes the host's.
  self->apply_keyboard_layout(s->KeyboardLayout, "client core data");
  return TRUE;
}

void Session::apply_keyboard_layout(uint32_t klid, const char* source) {
  // Keys held meanwhile keep their keycodes: their releases still match (XKB keeps the state by
  // keycode), so nothing needs releasing first.
  auto done = keyboard_.apply(klid);
  if (!done) {
    base::log_warn("keyboard layout {:#010x} ({}) not applied: {}", klid, source, done.error());
  } else if (*done == input::LayoutChange::kApplied) {
    base::log_info("keyboard layout {:#010x} ({}): applied to the guest's keymap", klid, source);
  } else if (*done == input::LayoutChange::kUnchanged) {
    base::log_debug("keyboard layout {:#010x} ({}): the guest has it already", klid, source);
  }
}

BOOL Session::on_activate(freerdp_peer* peer) {
  Session* self = session_of(peer->context);
  rdpSettings* s = peer->context->settings;
  Codec codec = self->options_.codec;
  if (codec == Codec::kRemoteFx && !s->RemoteFxCodec) {
    base::log_warn("client does not accept RemoteFX; falling back to planar");
    codec = Codec::kPlanar;
  }
  if (codec == Codec::kRaw && !s->SurfaceCommandsEnabled) {
    base::log_warn("client does not accept surface commands; falling back to planar");
    codec = Codec::kPlanar;
  }
  const size_t multifrag = s->MultifragMaxRequestSize ? s->MultifragMaxRequestSize : 65535;
  self->desktop_ = Rect{0, 0, static_cast<int32_t>(s->DesktopWidth), static_cast<int32_t>(s->DesktopHeight)}
                       .intersect(self->capture_.desktop());
  auto enc = SurfaceEncoder::create(codec, self->desktop_, multifrag);
  if (!enc) {
    base::log_warn("cannot encode for this client: {}", enc.error());
    return FALSE;
  }
  self->encoder_ = std::move(*enc);
  self->pointer_ = std::make_unique<PointerSender>(s->PointerCacheSize);
  if (!self->rail_ && WTSVirtualChannelManagerIsChannelJoined(self->vcm_, "rail")) {
    self->rail_ = RailChannel::start(self->vcm_, peer->context);
    if (!self->rail_ || !self->rail_->send_handshake()) {
      base::log_warn("cannot start the rail channel");
      return FALSE;
    }
  }
  // (Re)activation: the client's framebuffer holds nothing of ours yet.
  self->activated_ = true;
  self->stats_.activated = true;
  self->cursor_generation_ = 0;
  self->capture_.damage_all();
  base::log_info("session active: {}x{}, codec {}, rail {}", self->desktop_.width, self->desktop_.height,
                 codec_name(codec), self->rail_ ? "on" : "off");
  return TRUE;
}

BOOL Session::on_keyboard(rdpInput* input, UINT16 flags, UINT16 code) {
  Session* self = session_of(input->context);
  ++self->stats_.input_events;
  self->capture_.input().key(code & 0xff, (flags & KBD_FLAGS_EXTENDED) != 0, (flags & KBD_FLAGS_RELEASE) == 0);
  return TRUE;
}

BOOL Session::on_unicode(rdpInput* input, UINT16 flags, UINT16 code) {
  Session* self = session_of(input->context);
  ++self->stats_.input_events;
  self->capture_.input().unicode(code, (flags & KBD_FLAGS_RELEASE) == 0);
  return TRUE;
}

BOOL Session::on_mouse(rdpInput* input, UINT16 flags, UINT16 x, UINT16 y) {
  Session* self = session_of(input->context);
  ++self->stats_.input_events;
  x11::InputInjector& in = self->capture_.input();
  if (flags & (PTR_FLAGS_WHEEL | PTR_FLAGS_HWHEEL)) {
    // MS-RDPBCGR 2.2.8.1.1.3.1.1.3: 9-bit two's-complement rotation, 120 units per notch.
    int rotation = flags & WheelRotationMask;
    if (flags & PTR_FLAGS_WHEEL_NEGATIVE) rotation -= 0x200;
    int clicks = rotation / 120;
    if (clicks == 0) clicks = rotation > 0 ? 1 : -1;
    // Horizontal: positive rotation scrolls right (button 7), hence the sign flip.
    in.wheel((flags & PTR_FLAGS_HWHEEL) ? -clicks : clicks, (flags & PTR_FLAGS_HWHEEL) != 0);
    return TRUE;
  }
  in.motion(x, y);
  const bool down = (flags & PTR_FLAGS_DOWN) != 0;
  if (flags & PTR_FLAGS_BUTTON1) in.button(1, down);
  if (flags & PTR_FLAGS_BUTTON2) in.button(3, down);
  if (flags & PTR_FLAGS_BUTTON3) in.button(2, down);
  return TRUE;
}

BOOL Session::on_extended_mouse(rdpInput* input, UINT16 flags, UINT16 x, UINT16 y) {
  Session* self = session_of(input->context);
  ++self->stats_.input_events;
  x11::InputInjector& in = self->capture_.input();
  in.motion(x, y);
  const bool down = (flags & PTR_XFLAGS_DOWN) != 0;
  if (flags & PTR_XFLAGS_BUTTON1) in.button(8, down);
  if (flags & PTR_XFLAGS_BUTTON2) in.button(9, down);
  return TRUE;
}

BOOL Session::on_synchronize(rdpInput* input, UINT32) {
  ++session_of(input->context)->stats_.input_events;
  return TRUE;
}

BOOL Session::on_refresh_rect(rdpContext* context, BYTE count, const RECTANGLE_16* areas) {
  Session* self = session_of(context);
  for (BYTE i = 0; i < count; ++i) {
    // Inclusive bounds (MS-RDPBCGR 2.2.11.2.1).
    self->capture_.damage().add(Rect{areas[i].left, areas[i].top, areas[i].right - areas[i].left + 1,
                                     areas[i].bottom - areas[i].top + 1});
  }
  return TRUE;
}

BOOL Session::on_channel_data(freerdp_peer* peer, UINT16 channel_id, const BYTE* data, size_t size, UINT32 flags,
                              size_t total_size) {
  Session* self = session_of(peer->context);
  if (data != nullptr && channel_id == WTSChannelGetId(peer, "rail") &&
      !self->exec_tap_.on_chunk(std::span(data, size), flags, total_size))
    return TRUE;  // an exec order: the tap has it, FreeRDP never sees it (RailExecTap)
  return self->receive_channel_data_(peer, channel_id, data, size, flags, total_size);
}

BOOL Session::on_suppress_output(rdpContext* context, BYTE allow, const RECTANGLE_16*) {
  Session* self = session_of(context);
  self->suppressed_ = allow == 0;
  if (!self->suppressed_) self->capture_.damage_all();
  return TRUE;
}

void Session::handle_rail(const RailEvent& ev) {
  ++stats_.rail_events;
  x11::WindowActions& act = capture_.actions();
  if (const auto* e = std::get_if<RailExec>(&ev)) {  // from exec_tap_ only
    ++stats_.execs;
    const ExecOutcome out = launcher_.launch({e->program, e->working_dir, e->arguments});
    if (out.rail_result == RAIL_EXEC_S_OK) {
      base::log_info("exec '{}': {}", e->program, out.message);
    } else {
      base::log_warn("exec '{}' failed (result {}): {}", e->program, out.rail_result, out.message);
    }
    rail_->send_exec_result(e->flags, out.rail_result, out.raw_result, e->program);
  } else if (const auto* a = std::get_if<RailActivate>(&ev)) {
    if (a->enabled && !act.activate(a->window)) base::log_debug("activate: unknown window {:#x}", a->window);
  } else if (const auto* c = std::get_if<RailSysCommand>(&ev)) {
    bool known = true;
    switch (c->command) {
      case SC_MINIMIZE: known = act.minimize(c->window); break;
      case SC_MAXIMIZE: known = act.maximize(c->window); break;
      case SC_RESTORE: known = act.restore(c->window); break;
      case SC_CLOSE: known = act.close(c->window); break;
      case SC_MOVE:
      case SC_SIZE: {
        const WindowInfo* info = capture_.windows().find(c->window);
        if (!info) {
          known = false;
          break;
        }
        // Local move/size (MS-RDPERP 3.2.5.1.8): the client moves its own window and reports
        // the end with a Window Move PDU.
        moving_window_ = c->window;
        rail_->send_min_max_info(c->window, static_cast<int16_t>(std::min(desktop_.width, 32767)),
                                 static_cast<int16_t>(std::min(desktop_.height, 32767)));
        rail_->send_local_move_size(c->window, true, c->command == SC_MOVE ? kWmszKeyMove : kWmszKeySize,
                                    static_cast<int16_t>(info->frame.x), static_cast<int16_t>(info->frame.y));
        break;
      }
      default: base::log_debug("syscommand {:#x} ignored", c->command);
    }
    if (!known) base::log_debug("syscommand {:#x}: unknown window {:#x}", c->command, c->window);
  } else if (const auto* m = std::get_if<RailWindowMove>(&ev)) {
    act.move_resize(m->window, Rect{m->left, m->top, m->right - m->left, m->bottom - m->top});
    if (moving_window_ == m->window) {
      rail_->send_local_move_size(m->window, false, kWmszKeyMove, m->left, m->top);
      moving_window_ = 0;
    }
  } else if (const auto* g = std::get_if<RailGetAppId>(&ev)) {
    const WindowInfo* info = capture_.windows().find(g->window);
    rail_->send_app_id(g->window, info ? info->app_id : std::string());
  } else if (const auto* l = std::get_if<RailLanguageProfile>(&ev)) {
    // MS-RDPERP 2.2.2.2.3: the host switched its input language. A profile without a keyboard
    // layout (an IME or text service, KeyboardLayout 0) leaves the keymap as it is.
    base::log_debug("rail: language profile type {} language {:#06x} layout {:#010x}", l->profile_type,
                    l->language_id, l->keyboard_layout);
    apply_keyboard_layout(l->keyboard_layout, "language profile");
  } else if (const auto* o = std::get_if<RailOther>(&ev)) {
    base::log_debug("rail: {}", o->what);
  }
}

bool Session::send_pixels() {
  DamageRegion& damage = capture_.damage();
  if (damage.empty() || suppressed_) return true;
  if (options_.surfaces != nullptr && options_.surfaces->active()) {
    // What surfaces show, unless a window without one lies on top of it there (a popup that is
    // still on RDP pixels samples the desktop framebuffer at its own place).
    DamageRegion covered, uncovered;
    for (const auto& [id, info] : capture_.windows().windows()) {
      if (!info.shown() || info.minimized) continue;
      if (options_.surfaces->covers(id)) covered.add(info.frame);
      else uncovered.add(info.frame);
    }
    covered.subtract(uncovered);
    damage.subtract(covered);
    if (damage.empty()) return true;
  }
  std::vector<Rect> rects = damage.rects(desktop_, kMaxDamageRects);
  damage.clear();
  encoder_->clear();
  for (const Rect& raw : rects) {
    const Rect r = align_horizontally(raw, desktop_, 4);
    if (r.empty()) continue;
    auto image = capture_.grabber().grab_screen(r);
    if (!image) {
      base::log_debug("grab {}x{}+{}+{} failed: {}", r.width, r.height, r.x, r.y, image.error());
      continue;
    }
    if (!encoder_->encode(*image, r)) {
      base::log_warn("encoding {}x{}+{}+{} failed", r.width, r.height, r.x, r.y);
      continue;
    }
    stats_.pixels += static_cast<uint64_t>(r.area());
  }
  if (encoder_->bitmaps().empty()) return true;
  rdpSettings* s = peer_->context->settings;
  ++stats_.frames;
  stats_.payload_bytes += encoder_->bytes();
  return send_encoded(peer_->context, *encoder_, static_cast<uint16_t>(s->RemoteFxCodecId));
}

bool Session::flush() {
  if (!activated_) return true;
  rdpContext* ctx = peer_->context;
  rdpUpdate* update = ctx->update;
  if (rail_) {
    // Window orders travel in an orders update, which BeginPaint/EndPaint open and flush.
    if (!update->BeginPaint(ctx)) return false;
    const bool ok = orders_.sync(ctx, capture_.windows());
    if (!update->EndPaint(ctx) || !ok) return false;
  }
  if (options_.surfaces != nullptr) options_.surfaces->sync();
  if (!send_pixels()) return false;
  if (const auto& cur = capture_.cursor().current(); cur && capture_.cursor().generation() != cursor_generation_) {
    cursor_generation_ = capture_.cursor().generation();
    if (!pointer_->send(ctx, *cur)) return false;
  }
  return true;
}

void Session::loop(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    std::vector<pollfd> fds;
    HANDLE handles[32];
    const DWORD count = peer_->GetEventHandles(peer_, handles, 32);
    if (count == 0) {
      stats_.end_reason = "no peer event handles";
      return;
    }
    for (DWORD i = 0; i < count; ++i) fds.push_back({GetEventFileDescriptor(handles[i]), POLLIN, 0});
    fds.push_back({GetEventFileDescriptor(WTSVirtualChannelManagerGetEventHandle(vcm_)), POLLIN, 0});
    fds.push_back({capture_.fd(), POLLIN, 0});
    if (rail_) fds.push_back({rail_->event_fd(), POLLIN, 0});
    const size_t reject_index = fds.size();
    if (options_.reject_fd >= 0) fds.push_back({options_.reject_fd, POLLIN, 0});
    // The X queue may already hold events read during the last flush: do not sleep on them.
    // A surface waiting for the host to give a buffer back is checked again soon: the host's
    // Released comes on the bus, which this loop does not sleep on (the relay owns its doorbell).
    const bool surfaces_wait = options_.surfaces != nullptr && options_.surfaces->waiting();
    const int timeout = XPending(capture_.display().get()) > 0 ? 0 : surfaces_wait ? 1 : 500;
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
      stats_.end_reason = "poll failed";
      return;
    }
    if (!peer_->CheckFileDescriptor(peer_)) {
      stats_.end_reason = "client disconnected or sent invalid data";
      return;
    }
    if (!WTSVirtualChannelManagerCheckFileDescriptor(vcm_)) {
      stats_.end_reason = "virtual channel failure";
      return;
    }
    if (rail_) {
      for (const RailEvent& ev : rail_->take_events()) handle_rail(ev);
      for (RailExec& e : exec_tap_.take()) handle_rail(std::move(e));
    }
    if (options_.reject_fd >= 0 && (fds[reject_index].revents & POLLIN)) {
      const int extra = ::accept4(options_.reject_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (extra >= 0) {
        base::log_warn("a second client connected while one is served: refused");
        ::close(extra);
      }
    }
    capture_.pump();
    launcher_.reap();
    if (!flush()) {
      stats_.end_reason = "sending to the client failed";
      return;
    }
    capture_.flush();
  }
  stats_.end_reason = "server stopping";
}

SessionStats Session::run(int fd, const std::atomic<bool>& stop) {
  if (setup(fd)) loop(stop);
  if (peer_ && peer_->context && activated_) peer_->Disconnect(peer_);
  return stats_;
}

}  // namespace

SessionStats serve_session(int fd, x11::X11Capture& capture, Launcher& launcher,
                           const SessionOptions& options, const std::atomic<bool>& stop) {
  SessionStats stats;
  {
    Session session(capture, launcher, options);
    stats = session.run(fd, stop);
  }
  // Anything the client held down is released by ~Session; anything damaged meanwhile is
  // resent in full to the next client on activation.
  capture.flush();
  return stats;
}

}  // namespace vitrine::appserver::rdp
