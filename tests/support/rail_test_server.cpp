#include "rail_test_server.hpp"

#include <freerdp/channels/channels.h>
#include <freerdp/channels/wtsvc.h>
#include <freerdp/codec/color.h>
#include <freerdp/constants.h>
#include <freerdp/freerdp.h>
#include <freerdp/peer.h>
#include <freerdp/server/rail.h>
#include <freerdp/window.h>
#include <winpr/ssl.h>
#include <winpr/wtsapi.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace vitrine::testing {
namespace {

struct PeerContext {
  rdpContext base;
  RailTestServer::Impl* impl;
};

std::vector<BYTE> utf16(const std::string& s) {
  std::vector<BYTE> out;
  for (unsigned char c : s) {  // tests use ASCII and Latin-1 titles
    out.push_back(c);
    out.push_back(0);
  }
  return out;
}

ReceivedInput make_input(ReceivedInput::Kind kind, std::uint32_t flags = 0, std::uint32_t code = 0,
                         std::int32_t x = 0, std::int32_t y = 0, std::int32_t right = 0, std::int32_t bottom = 0,
                         std::uint32_t window = 0, std::string text = {}) {
  ReceivedInput in;
  in.kind = kind;
  in.flags = flags;
  in.code = code;
  in.x = x;
  in.y = y;
  in.right = right;
  in.bottom = bottom;
  in.window = window;
  in.text = std::move(text);
  return in;
}

}  // namespace

class RailTestServer::Impl {
 public:
  Impl(int fd, RailServerConfig config) : fd_(fd), config_(std::move(config)) {
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  }
  ~Impl() {
    stop_.store(true);
    wake();
    if (thread_.joinable()) thread_.join();
    if (wake_ >= 0) ::close(wake_);
  }

  void start() { thread_ = std::thread([this] { run(); }); }
  void wake() {
    const std::uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
  }

  bool post(std::function<bool()> action) {
    std::packaged_task<bool()> task(std::move(action));
    auto result = task.get_future();
    {
      std::lock_guard lock(mutex_);
      if (ended_) return false;
      tasks_.push_back(std::move(task));
    }
    wake();
    if (result.wait_for(std::chrono::seconds(20)) != std::future_status::ready) return false;
    try {
      return result.get();
    } catch (const std::future_error&) {
      return false;  // the session ended before the action ran
    }
  }

  void record(ReceivedInput in) {
    {
      std::lock_guard lock(mutex_);
      input_.push_back(std::move(in));
    }
    cv_.notify_all();
  }

  void set_ready() {
    {
      std::lock_guard lock(mutex_);
      ready_ = true;
    }
    cv_.notify_all();
  }

  // ---- FreeRDP callbacks ----
  static Impl& of(rdpContext* c) { return *reinterpret_cast<PeerContext*>(c)->impl; }
  static Impl& of(RailServerContext* r) { return *static_cast<Impl*>(r->custom); }

  bool setup() {
    peer_ = freerdp_peer_new(fd_);
    if (!peer_) return false;
    peer_->ContextSize = sizeof(PeerContext);
    if (!freerdp_peer_context_new(peer_)) return false;
    reinterpret_cast<PeerContext*>(peer_->context)->impl = this;
    rdpSettings* s = peer_->context->settings;
    if (config_.tls) {
      s->RdpSecurity = FALSE;
      s->TlsSecurity = TRUE;
      freerdp_settings_set_string(s, FreeRDP_CertificateFile, config_.certificate_file.c_str());
      freerdp_settings_set_string(s, FreeRDP_PrivateKeyFile, config_.key_file.c_str());
    } else {
      // Standard RDP security with encryption NONE (peer->local): the bus is the private link.
      peer_->local = TRUE;
      s->RdpSecurity = TRUE;
      s->TlsSecurity = FALSE;
      s->UseRdpSecurityLayer = TRUE;
      s->EncryptionLevel = ENCRYPTION_LEVEL_NONE;
      s->EncryptionMethods = ENCRYPTION_METHOD_NONE;
    }
    s->NlaSecurity = FALSE;
    s->ColorDepth = 32;
    s->SurfaceCommandsEnabled = TRUE;
    s->FrameMarkerCommandEnabled = TRUE;
    s->UnicodeInput = TRUE;
    s->HasHorizontalWheel = TRUE;
    s->HasExtendedMouseEvent = TRUE;
    s->RemoteFxCodec = FALSE;
    s->NSCodec = FALSE;
    if (config_.remote_app) {
      s->RemoteApplicationMode = TRUE;
      s->RemoteApplicationSupportLevel = RAIL_LEVEL_SUPPORTED;
      s->RemoteWndSupportLevel = 0x2;  // TS_WINDOW_LEVEL_SUPPORTED_EX (MS-RDPERP 2.2.1.1.2)
      s->RemoteAppNumIconCaches = 3;
      s->RemoteAppNumIconCacheEntries = 12;
    }
    peer_->PostConnect = [](freerdp_peer*) -> BOOL { return TRUE; };
    peer_->Activate = [](freerdp_peer* p) -> BOOL { return of(p->context).activate(); };
    rdpInput* in = peer_->context->input;
    in->KeyboardEvent = [](rdpInput* i, UINT16 flags, UINT16 code) -> BOOL {
      of(i->context).record(make_input(ReceivedInput::Kind::kKey, flags, code));
      return TRUE;
    };
    in->UnicodeKeyboardEvent = [](rdpInput* i, UINT16 flags, UINT16 code) -> BOOL {
      of(i->context).record(make_input(ReceivedInput::Kind::kUnicode, flags, code));
      return TRUE;
    };
    in->MouseEvent = [](rdpInput* i, UINT16 flags, UINT16 x, UINT16 y) -> BOOL {
      of(i->context).record(make_input(ReceivedInput::Kind::kMouse, flags, 0, x, y));
      return TRUE;
    };
    in->ExtendedMouseEvent = [](rdpInput* i, UINT16 flags, UINT16 x, UINT16 y) -> BOOL {
      of(i->context).record(make_input(ReceivedInput::Kind::kExtendedMouse, flags, 0, x, y));
      return TRUE;
    };
    in->SynchronizeEvent = [](rdpInput* i, UINT32 flags) -> BOOL {
      of(i->context).record(make_input(ReceivedInput::Kind::kSync, flags));
      return TRUE;
    };
    if (!peer_->Initialize(peer_)) return false;
    vcm_ = WTSOpenServerA(reinterpret_cast<LPSTR>(peer_->context));
    return vcm_ && vcm_ != INVALID_HANDLE_VALUE;
  }

  BOOL activate() {
    rdpSettings* s = peer_->context->settings;
    width_.store(s->DesktopWidth);
    height_.store(s->DesktopHeight);
    if (config_.remote_app && !rail_ && WTSVirtualChannelManagerIsChannelJoined(vcm_, "rail")) {
      rail_ = rail_server_context_new(vcm_);
      if (!rail_) return FALSE;
      rail_->custom = this;
      rail_->rdpcontext = peer_->context;
      rail_->ClientHandshake = [](RailServerContext*, const RAIL_HANDSHAKE_ORDER*) -> UINT { return CHANNEL_RC_OK; };
      rail_->ClientClientStatus = [](RailServerContext*, const RAIL_CLIENT_STATUS_ORDER*) -> UINT {
        return CHANNEL_RC_OK;
      };
      rail_->ClientSysparam = [](RailServerContext* r, const RAIL_SYSPARAM_ORDER*) -> UINT {
        if (!of(r).config_.expect_exec) of(r).set_ready();
        return CHANNEL_RC_OK;
      };
      rail_->ClientLangbarInfo = [](RailServerContext*, const RAIL_LANGBAR_INFO_ORDER*) -> UINT {
        return CHANNEL_RC_OK;
      };
      rail_->ClientLanguageImeInfo = [](RailServerContext*, const RAIL_LANGUAGEIME_INFO_ORDER*) -> UINT {
        return CHANNEL_RC_OK;
      };
      rail_->ClientNotifyEvent = [](RailServerContext*, const RAIL_NOTIFY_EVENT_ORDER*) -> UINT { return CHANNEL_RC_OK; };
      rail_->ClientSysmenu = [](RailServerContext*, const RAIL_SYSMENU_ORDER*) -> UINT { return CHANNEL_RC_OK; };
      rail_->ClientGetAppidReq = [](RailServerContext*, const RAIL_GET_APPID_REQ_ORDER*) -> UINT { return CHANNEL_RC_OK; };
      rail_->ClientExec = [](RailServerContext* r, const RAIL_EXEC_ORDER* e) -> UINT {
        const std::string program = e->RemoteApplicationProgram ? e->RemoteApplicationProgram : "";
        const RailServerConfig& config = of(r).config_;
        // A non-empty exeOrFile, or the client's rail channel fails (platform-notes.md).
        auto name = utf16(program.empty() ? "app" : program);
        RAIL_EXEC_RESULT_ORDER result{};
        result.flags = e->flags;
        const bool refuse = !config.failing_program.empty() && program == config.failing_program;
        result.execResult = refuse ? config.failing_result : static_cast<UINT16>(RAIL_EXEC_S_OK);
        result.rawResult = refuse ? config.failing_raw : 0;
        result.exeOrFile.length = static_cast<UINT16>(name.size());
        result.exeOrFile.string = name.data();
        // Recorded before the answer goes out, so a client that saw the answer finds the record.
        of(r).record(make_input(ReceivedInput::Kind::kExec, e->flags, 0, 0, 0, 0, 0, 0, program));
        const UINT rc = r->ServerExecResult(r, &result);
        of(r).set_ready();
        return rc;
      };
      rail_->ClientActivate = [](RailServerContext* r, const RAIL_ACTIVATE_ORDER* a) -> UINT {
        of(r).record(make_input(ReceivedInput::Kind::kActivate, a->enabled ? 1u : 0u, 0, 0, 0, 0, 0, a->windowId));
        return CHANNEL_RC_OK;
      };
      rail_->ClientSyscommand = [](RailServerContext* r, const RAIL_SYSCOMMAND_ORDER* c) -> UINT {
        of(r).record(make_input(ReceivedInput::Kind::kSysCommand, 0, c->command, 0, 0, 0, 0, c->windowId));
        return CHANNEL_RC_OK;
      };
      rail_->ClientWindowMove = [](RailServerContext* r, const RAIL_WINDOW_MOVE_ORDER* m) -> UINT {
        of(r).record(make_input(ReceivedInput::Kind::kWindowMove, 0, 0, m->left, m->top, m->right, m->bottom, m->windowId));
        return CHANNEL_RC_OK;
      };
      if (rail_->Start(rail_) != CHANNEL_RC_OK) return FALSE;
      RAIL_HANDSHAKE_ORDER hs{0x1DB0};
      if (rail_->ServerHandshake(rail_, &hs) != CHANNEL_RC_OK) return FALSE;
    }
    if (!config_.remote_app) set_ready();
    return TRUE;
  }

  void run() {
    const bool ok = setup();
    while (ok && !stop_.load()) {
      HANDLE handles[32];
      const DWORD count = peer_->GetEventHandles(peer_, handles, 32);
      if (count == 0) break;
      std::vector<pollfd> fds;
      for (DWORD i = 0; i < count; ++i) fds.push_back({GetEventFileDescriptor(handles[i]), POLLIN, 0});
      fds.push_back({GetEventFileDescriptor(WTSVirtualChannelManagerGetEventHandle(vcm_)), POLLIN, 0});
      fds.push_back({wake_, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 200);
      std::uint64_t drained;
      (void)!::read(wake_, &drained, sizeof drained);
      if (!peer_->CheckFileDescriptor(peer_)) break;
      if (!WTSVirtualChannelManagerCheckFileDescriptor(vcm_)) break;
      std::deque<std::packaged_task<bool()>> batch;
      {
        std::lock_guard lock(mutex_);
        batch.swap(tasks_);
      }
      for (auto& task : batch) task();
      if (disconnect_) break;
    }
    {
      std::lock_guard lock(mutex_);
      ended_ = true;
      tasks_.clear();  // broken promises: their posters see "not sent"
    }
    cv_.notify_all();
    if (rail_) {
      rail_->Stop(rail_);
      rail_server_context_free(rail_);
    }
    if (vcm_) WTSCloseServer(vcm_);
    if (peer_) {
      peer_->Disconnect(peer_);
      freerdp_peer_context_free(peer_);
      freerdp_peer_free(peer_);
    }
  }

  // ---- order helpers (server thread) ----
  bool send_window(const WINDOW_ORDER_INFO& info, const WINDOW_STATE_ORDER& state, bool create) {
    rdpUpdate* u = peer_->context->update;
    if (!u->BeginPaint(peer_->context)) return false;
    const BOOL ok = create ? u->window->WindowCreate(peer_->context, &info, &state)
                           : u->window->WindowUpdate(peer_->context, &info, &state);
    return u->EndPaint(peer_->context) && ok;
  }

  int fd_;
  RailServerConfig config_;
  int wake_ = -1;
  freerdp_peer* peer_ = nullptr;
  HANDLE vcm_ = nullptr;
  RailServerContext* rail_ = nullptr;
  std::atomic<std::uint32_t> width_{0}, height_{0};
  std::atomic<bool> stop_{false};
  UINT32 frame_id_ = 1;
  bool disconnect_ = false;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::deque<std::packaged_task<bool()>> tasks_;
  std::vector<ReceivedInput> input_;
  bool ready_ = false;
  bool ended_ = false;
  std::thread thread_;
};

RailTestServer::RailTestServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RailTestServer::~RailTestServer() = default;

std::unique_ptr<RailTestServer> RailTestServer::start(int fd, RailServerConfig config) {
  // Once per process: FreeRDP's own WTS API implementation backs WTSOpenServerA, and OpenSSL is
  // initialised for the TLS variant.
  static const bool initialised = [] {
    winpr_InitializeSSL(WINPR_SSL_INIT_DEFAULT);
    return WTSRegisterWtsApiFunctionTable(FreeRDP_InitWtsApi()) != FALSE;
  }();
  (void)initialised;
  auto impl = std::make_unique<Impl>(fd, std::move(config));
  impl->start();
  return std::unique_ptr<RailTestServer>(new RailTestServer(std::move(impl)));
}

bool RailTestServer::wait_ready(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex_);
  return impl_->cv_.wait_for(lock, timeout, [&] { return impl_->ready_ || impl_->ended_; }) && impl_->ready_;
}

std::uint32_t RailTestServer::desktop_width() const { return impl_->width_.load(); }
std::uint32_t RailTestServer::desktop_height() const { return impl_->height_.load(); }
bool RailTestServer::run(std::function<bool()> action) { return impl_->post(std::move(action)); }

bool RailTestServer::create_window(const ServerWindow& w) {
  return run([this, w] {
    auto title = utf16(w.title);
    WINDOW_ORDER_INFO info{};
    info.windowId = w.id;
    info.fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_STATE_NEW | WINDOW_ORDER_FIELD_OWNER |
                      WINDOW_ORDER_FIELD_STYLE | WINDOW_ORDER_FIELD_SHOW | WINDOW_ORDER_FIELD_TITLE |
                      WINDOW_ORDER_FIELD_CLIENT_AREA_OFFSET | WINDOW_ORDER_FIELD_CLIENT_AREA_SIZE |
                      WINDOW_ORDER_FIELD_WND_OFFSET | WINDOW_ORDER_FIELD_WND_SIZE | WINDOW_ORDER_FIELD_WND_RECTS |
                      WINDOW_ORDER_FIELD_VIS_OFFSET | WINDOW_ORDER_FIELD_VISIBILITY;
    WINDOW_STATE_ORDER st{};
    st.ownerWindowId = w.owner;
    st.style = w.style;
    st.extendedStyle = w.ex_style;
    st.showState = w.show;
    st.titleInfo.length = static_cast<UINT16>(title.size());
    st.titleInfo.string = title.data();
    st.clientOffsetX = w.x;
    st.clientOffsetY = w.y;
    st.clientAreaWidth = w.width;
    st.clientAreaHeight = w.height;
    st.windowOffsetX = w.x;
    st.windowOffsetY = w.y;
    st.windowWidth = w.width;
    st.windowHeight = w.height;
    RECTANGLE_16 rect{0, 0, static_cast<UINT16>(w.width), static_cast<UINT16>(w.height)};
    st.numWindowRects = 1;
    st.windowRects = &rect;
    st.visibleOffsetX = w.x;
    st.visibleOffsetY = w.y;
    st.numVisibilityRects = 1;
    st.visibilityRects = &rect;
    return impl_->send_window(info, st, true);
  });
}

bool RailTestServer::create_raw_window(std::uint32_t id, std::uint32_t width, std::uint32_t height) {
  return run([this, id, width, height] {
    WINDOW_ORDER_INFO info{};
    info.windowId = id;
    info.fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_STATE_NEW | WINDOW_ORDER_FIELD_WND_SIZE |
                      WINDOW_ORDER_FIELD_SHOW;
    WINDOW_STATE_ORDER st{};
    st.showState = 5;
    st.windowWidth = width;
    st.windowHeight = height;
    return impl_->send_window(info, st, true);
  });
}

bool RailTestServer::move_window(std::uint32_t id, std::int32_t x, std::int32_t y, std::uint32_t width,
                                 std::uint32_t height) {
  return run([this, id, x, y, width, height] {
    WINDOW_ORDER_INFO info{};
    info.windowId = id;
    info.fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_FIELD_WND_OFFSET | WINDOW_ORDER_FIELD_WND_SIZE |
                      WINDOW_ORDER_FIELD_CLIENT_AREA_OFFSET | WINDOW_ORDER_FIELD_CLIENT_AREA_SIZE;
    WINDOW_STATE_ORDER st{};
    st.windowOffsetX = st.clientOffsetX = x;
    st.windowOffsetY = st.clientOffsetY = y;
    st.windowWidth = st.clientAreaWidth = width;
    st.windowHeight = st.clientAreaHeight = height;
    return impl_->send_window(info, st, false);
  });
}

bool RailTestServer::retitle(std::uint32_t id, const std::string& title) {
  return run([this, id, title] {
    auto text = utf16(title);
    WINDOW_ORDER_INFO info{};
    info.windowId = id;
    info.fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_FIELD_TITLE;
    WINDOW_STATE_ORDER st{};
    st.titleInfo.length = static_cast<UINT16>(text.size());
    st.titleInfo.string = text.data();
    return impl_->send_window(info, st, false);
  });
}

bool RailTestServer::show(std::uint32_t id, std::uint32_t show_state) {
  return run([this, id, show_state] {
    WINDOW_ORDER_INFO info{};
    info.windowId = id;
    info.fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_FIELD_SHOW;
    WINDOW_STATE_ORDER st{};
    st.showState = show_state;
    return impl_->send_window(info, st, false);
  });
}

bool RailTestServer::set_icon(std::uint32_t id, std::uint32_t width, std::uint32_t height, std::uint32_t bgra,
                              std::uint8_t cache_id, std::uint16_t cache_entry, bool big) {
  return run([this, id, width, height, bgra, cache_id, cache_entry, big] {
    std::vector<BYTE> color(std::size_t{width} * height * 4);
    for (std::size_t i = 0; i < color.size(); i += 4) std::memcpy(&color[i], &bgra, 4);
    std::vector<BYTE> mask(std::size_t{(width + 15) / 16 * 2} * height, 0);  // AND mask 0: opaque
    ICON_INFO icon{};
    icon.cacheEntry = cache_entry;
    icon.cacheId = cache_id;
    icon.bpp = 32;
    icon.width = width;
    icon.height = height;
    icon.cbBitsColor = static_cast<UINT32>(color.size());
    icon.bitsColor = color.data();
    icon.cbBitsMask = static_cast<UINT32>(mask.size());
    icon.bitsMask = mask.data();
    WINDOW_ICON_ORDER order{&icon};
    WINDOW_ORDER_INFO info{};
    info.windowId = id;
    info.fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_ICON | (big ? WINDOW_ORDER_FIELD_ICON_BIG : 0);
    rdpUpdate* u = impl_->peer_->context->update;
    if (!u->BeginPaint(impl_->peer_->context)) return false;
    const BOOL ok = u->window->WindowIcon(impl_->peer_->context, &info, &order);
    return u->EndPaint(impl_->peer_->context) && ok;
  });
}

bool RailTestServer::set_cached_icon(std::uint32_t id, std::uint8_t cache_id, std::uint16_t cache_entry, bool big) {
  return run([this, id, cache_id, cache_entry, big] {
    WINDOW_CACHED_ICON_ORDER order{};
    order.cachedIcon.cacheEntry = cache_entry;
    order.cachedIcon.cacheId = cache_id;
    WINDOW_ORDER_INFO info{};
    info.windowId = id;
    info.fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_CACHED_ICON | (big ? WINDOW_ORDER_FIELD_ICON_BIG : 0);
    rdpUpdate* u = impl_->peer_->context->update;
    if (!u->BeginPaint(impl_->peer_->context)) return false;
    const BOOL ok = u->window->WindowCachedIcon(impl_->peer_->context, &info, &order);
    return u->EndPaint(impl_->peer_->context) && ok;
  });
}

bool RailTestServer::delete_window(std::uint32_t id) {
  return run([this, id] {
    WINDOW_ORDER_INFO info{};
    info.windowId = id;
    info.fieldFlags = WINDOW_ORDER_TYPE_WINDOW | WINDOW_ORDER_STATE_DELETED;
    rdpUpdate* u = impl_->peer_->context->update;
    if (!u->BeginPaint(impl_->peer_->context)) return false;
    const BOOL ok = u->window->WindowDelete(impl_->peer_->context, &info);
    return u->EndPaint(impl_->peer_->context) && ok;
  });
}

bool RailTestServer::desktop(std::uint32_t active, const std::vector<std::uint32_t>& z_order) {
  return run([this, active, z_order] {
    std::vector<UINT32> ids(z_order.begin(), z_order.end());
    MONITORED_DESKTOP_ORDER order{};
    order.activeWindowId = active;
    order.numWindowIds = static_cast<UINT32>(ids.size());
    order.windowIds = ids.data();
    WINDOW_ORDER_INFO info{};
    info.fieldFlags = WINDOW_ORDER_TYPE_DESKTOP | WINDOW_ORDER_FIELD_DESKTOP_ACTIVE_WND |
                      (ids.empty() ? 0 : WINDOW_ORDER_FIELD_DESKTOP_ZORDER);
    rdpUpdate* u = impl_->peer_->context->update;
    if (!u->BeginPaint(impl_->peer_->context)) return false;
    const BOOL ok = u->window->MonitoredDesktop(impl_->peer_->context, &info, &order);
    return u->EndPaint(impl_->peer_->context) && ok;
  });
}

bool RailTestServer::paint(std::int32_t x, std::int32_t y, std::uint32_t width, std::uint32_t height,
                           const std::function<std::uint32_t(std::int32_t, std::int32_t)>& pattern) {
  return run([this, x, y, width, height, &pattern] {
    rdpContext* ctx = impl_->peer_->context;
    rdpSettings* s = ctx->settings;
    // One SurfaceBits PDU stays under the client's MultifragMaxRequestSize (platform-notes.md).
    const std::size_t budget = (s->MultifragMaxRequestSize ? s->MultifragMaxRequestSize : 65535) - 1024;
    const std::size_t row_bytes = std::size_t{width} * 4;
    if (row_bytes > budget || width == 0 || height == 0) return false;
    const auto rows = static_cast<std::uint32_t>(std::max<std::size_t>(1, budget / row_bytes));
    std::vector<BYTE> band(row_bytes * rows);
    SURFACE_FRAME_MARKER marker{SURFACECMD_FRAMEACTION_BEGIN, impl_->frame_id_++};
    ctx->update->SurfaceFrameMarker(ctx, &marker);
    for (std::uint32_t top = 0; top < height; top += rows) {
      const std::uint32_t h = std::min(rows, height - top);
      // Bottom-up rows (MS-RDPBCGR 2.2.9.1.1.3.1.2.2: bitmap data is bottom-up, like a DIB).
      for (std::uint32_t r = 0; r < h; ++r) {
        const std::int32_t py = y + static_cast<std::int32_t>(top + h - 1 - r);
        for (std::uint32_t c = 0; c < width; ++c) {
          const std::uint32_t v = pattern(x + static_cast<std::int32_t>(c), py);
          std::memcpy(&band[r * row_bytes + c * 4], &v, 4);
        }
      }
      SURFACE_BITS_COMMAND cmd{};
      cmd.cmdType = CMDTYPE_STREAM_SURFACE_BITS;
      cmd.destLeft = static_cast<UINT32>(x);
      cmd.destTop = static_cast<UINT32>(y) + top;
      cmd.destRight = static_cast<UINT32>(x) + width;
      cmd.destBottom = static_cast<UINT32>(y) + top + h;
      cmd.bmp.bpp = 32;
      cmd.bmp.codecID = RDP_CODEC_ID_NONE;
      cmd.bmp.width = static_cast<UINT16>(width);
      cmd.bmp.height = static_cast<UINT16>(h);
      cmd.bmp.bitmapDataLength = static_cast<UINT32>(row_bytes * h);
      cmd.bmp.bitmapData = band.data();
      if (!ctx->update->SurfaceBits(ctx, &cmd)) return false;
    }
    marker.frameAction = SURFACECMD_FRAMEACTION_END;
    return ctx->update->SurfaceFrameMarker(ctx, &marker) != FALSE;
  });
}

bool RailTestServer::send_raw(const std::vector<std::uint8_t>& bytes, bool close_after) {
  return run([this, bytes, close_after] {
    const bool ok = ::send(impl_->fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
    if (close_after) {
      ::shutdown(impl_->fd_, SHUT_RDWR);
      impl_->disconnect_ = true;
    }
    return ok;
  });
}

void RailTestServer::disconnect() {
  run([this] {
    impl_->disconnect_ = true;
    return true;
  });
}

std::vector<ReceivedInput> RailTestServer::input() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->input_;
}

bool RailTestServer::wait_input(const std::function<bool(const std::vector<ReceivedInput>&)>& pred,
                                std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex_);
  return impl_->cv_.wait_for(lock, timeout, [&] { return pred(impl_->input_); });
}

bool RailTestServer::ended() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->ended_;
}

}  // namespace vitrine::testing
