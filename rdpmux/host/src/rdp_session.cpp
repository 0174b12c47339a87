#include "rdp_session.hpp"

#include <freerdp/channels/channels.h>
#include <freerdp/client/channels.h>
#include <freerdp/client/cmdline.h>
#include <freerdp/event.h>
#include <freerdp/gdi/gdi.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <winpr/synch.h>

#include <algorithm>
#include <cstring>

#include "connecting_socket.hpp"
#include "keyboard_layout_detect.hpp"
#include "rail_orders.hpp"
#include "vitrine/perf/probes.hpp"
#include "vitrine/rdpmux/host/cert_pin_store.hpp"

namespace {
// The socket a thread is connecting on (-1: not connecting), for the fast-connect Sleep() that
// executables which connect FreeRDP clients link (winpr_connect_sleep.cpp, connecting_socket()).
thread_local int t_connecting_fd = -1;
}  // namespace

int vitrine::rdpmux::host::connecting_socket() noexcept { return t_connecting_fd; }

namespace vitrine::rdpmux::host {
namespace {

// FreeRDP allocates this as the session's rdpContext (RDP_CLIENT_ENTRY_POINTS::ContextSize).
struct SessionContext {
  rdpClientContext common;
  RdpClient::Session* session;
};

RdpClient::Session& of(rdpContext* context) { return *reinterpret_cast<SessionContext*>(context)->session; }

// gdi_init_ex/gdi_resize_ex free the framebuffer through this; the memory is ours (or the
// sink's), so FreeRDP must never free it.
void keep_framebuffer(void*) {}

std::string freerdp_reason(rdpContext* context) {
  const UINT32 code = freerdp_get_last_error(context);
  if (code == 0) return "no error code from FreeRDP";
  const char* text = freerdp_get_last_error_string(code);
  return std::string(text ? text : "unknown") + " (0x" + [code] {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08X", code);
    return std::string(buf);
  }() + ")";
}

BOOL on_window_create(rdpContext* c, const WINDOW_ORDER_INFO* info, const WINDOW_STATE_ORDER* state) {
  auto& s = of(c);
  auto order = rail::to_window_order(*info, *state);
  if (!order) return s.failed(order.error());
  auto r = s.model().create(*order);
  return r ? TRUE : s.failed(r.error());
}

BOOL on_window_update(rdpContext* c, const WINDOW_ORDER_INFO* info, const WINDOW_STATE_ORDER* state) {
  auto& s = of(c);
  auto order = rail::to_window_order(*info, *state);
  if (!order) return s.failed(order.error());
  auto r = s.model().update(*order);
  return r ? TRUE : s.failed(r.error());
}

BOOL on_window_icon(rdpContext* c, const WINDOW_ORDER_INFO* info, const WINDOW_ICON_ORDER* icon) {
  auto& s = of(c);
  if (!icon || !icon->iconInfo) return s.failed(Error{Errc::kProtocol, 0, "window icon order without icon"});
  auto decoded = rail::decode_icon(*icon->iconInfo, s.model().limits());
  if (!decoded) return s.failed(decoded.error());
  auto r = s.model().set_icon(info->windowId, (info->fieldFlags & WINDOW_ORDER_FIELD_ICON_BIG) != 0,
                              std::move(*decoded), {icon->iconInfo->cacheId, icon->iconInfo->cacheEntry});
  return r ? TRUE : s.failed(r.error());
}

BOOL on_window_cached_icon(rdpContext* c, const WINDOW_ORDER_INFO* info, const WINDOW_CACHED_ICON_ORDER* icon) {
  auto& s = of(c);
  auto r = s.model().set_cached_icon(info->windowId, (info->fieldFlags & WINDOW_ORDER_FIELD_ICON_BIG) != 0,
                                     {icon->cachedIcon.cacheId, icon->cachedIcon.cacheEntry});
  return r ? TRUE : s.failed(r.error());
}

BOOL on_window_delete(rdpContext* c, const WINDOW_ORDER_INFO* info) {
  auto& s = of(c);
  auto r = s.model().remove(info->windowId);
  return r ? TRUE : s.failed(r.error());
}

BOOL on_notify_icon(rdpContext* c, const WINDOW_ORDER_INFO* info, const NOTIFY_ICON_STATE_ORDER* state, bool create) {
  auto& s = of(c);
  auto order = rail::to_notify_icon_order(*info, *state, s.model().limits());
  if (!order) return s.failed(order.error());
  auto r = s.model().notify_icon(*order, create);
  return r ? TRUE : s.failed(r.error());
}

BOOL on_notify_icon_create(rdpContext* c, const WINDOW_ORDER_INFO* i, const NOTIFY_ICON_STATE_ORDER* st) {
  return on_notify_icon(c, i, st, true);
}
BOOL on_notify_icon_update(rdpContext* c, const WINDOW_ORDER_INFO* i, const NOTIFY_ICON_STATE_ORDER* st) {
  return on_notify_icon(c, i, st, false);
}
BOOL on_notify_icon_delete(rdpContext* c, const WINDOW_ORDER_INFO* info) {
  auto& s = of(c);
  auto r = s.model().notify_icon_delete(info->windowId, info->notifyIconId);
  return r ? TRUE : s.failed(r.error());
}

BOOL on_monitored_desktop(rdpContext* c, const WINDOW_ORDER_INFO* info, const MONITORED_DESKTOP_ORDER* desk) {
  auto& s = of(c);
  std::optional<WindowId> active;
  std::optional<std::span<const WindowId>> z;
  if (info->fieldFlags & WINDOW_ORDER_FIELD_DESKTOP_ACTIVE_WND) active = desk->activeWindowId;
  if ((info->fieldFlags & WINDOW_ORDER_FIELD_DESKTOP_ZORDER) && desk->windowIds)
    z = std::span<const WindowId>(desk->windowIds, desk->numWindowIds);
  auto r = s.model().monitored_desktop(active, z);
  return r ? TRUE : s.failed(r.error());
}

BOOL on_non_monitored_desktop(rdpContext* c, const WINDOW_ORDER_INFO*) {
  of(c).model().clear();
  return TRUE;
}

void on_channel_connected(void* context, ChannelConnectedEventArgs* e) {
  of(static_cast<rdpContext*>(context)).channel_connected(e->name, e->pInterface);
}
void on_channel_disconnected(void* context, ChannelDisconnectedEventArgs* e) {
  of(static_cast<rdpContext*>(context)).channel_disconnected(e->name);
}

BOOL client_new(freerdp* instance, rdpContext*) {
  instance->PreConnect = [](freerdp* i) { return of(i->context).pre_connect(); };
  instance->PostConnect = [](freerdp* i) { return of(i->context).post_connect(); };
  instance->PostDisconnect = [](freerdp* i) { of(i->context).post_disconnect(); };
  instance->Authenticate = [](freerdp*, char**, char**, char**) -> BOOL { return TRUE; };
  instance->VerifyX509Certificate = [](freerdp* i, const BYTE* pem, size_t length, const char*, UINT16,
                                       DWORD) { return of(i->context).verify_x509(pem, length); };
  return TRUE;
}

}  // namespace

bool OwnedFramebuffer::allocate(std::size_t bytes) {
  reset();
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  data_ = static_cast<std::byte*>(p);
  size_ = bytes;
  return true;
}

void OwnedFramebuffer::reset() {
  if (data_) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

RdpClient::Session::Session(ClientConfig config, ringbus::UniqueFd socket, DisplaySink& display,
                            WindowEvents& windows)
    : config_(std::move(config)),
      socket_(std::move(socket)),
      display_(display),
      windows_(windows),
      model_(windows, config_.limits) {
  wake_ = CreateEventA(nullptr, TRUE, FALSE, nullptr);
}

RdpClient::Session::~Session() {
  stop();
  if (context_) freerdp_client_context_free(context_);
  if (wake_) CloseHandle(wake_);
}

void RdpClient::Session::start_thread() { thread_ = std::thread([this] { run(); }); }

Result<void> RdpClient::Session::configure() {
  if (!wake_) return fail(Errc::kSystem, "cannot create the session's wake event");
  if (config_.security == Security::kTls && config_.pin_dir.empty())
    return fail(Errc::kConfig, "TLS needs a certificate pin directory (ClientConfig::pin_dir)");
  if (config_.width < 64 || config_.height < 64 || config_.width > 8192 || config_.height > 8192)
    return fail(Errc::kConfig, "desktop size " + std::to_string(config_.width) + "x" +
                                   std::to_string(config_.height) + " outside 64..8192");
  RDP_CLIENT_ENTRY_POINTS ep{};
  ep.Size = sizeof(ep);
  ep.Version = RDP_CLIENT_INTERFACE_VERSION;
  ep.ContextSize = sizeof(SessionContext);
  ep.ClientNew = client_new;
  context_ = freerdp_client_context_new(&ep);
  if (!context_) return fail(Errc::kSystem, "freerdp_client_context_new failed");
  reinterpret_cast<SessionContext*>(context_)->session = this;
  rdpSettings* s = context_->settings;
  const auto str = [&](size_t id, const std::string& v) {
    return freerdp_settings_set_string(s, id, v.empty() ? nullptr : v.c_str());
  };
  // An external socket: hostname "|" and the fd as the port (FreeRDP 2.11 tcp.c); FreeRDP owns
  // the fd from here on and closes it on disconnect.
  socket_fd_ = socket_.get();
  socket_dup_.reset(::fcntl(socket_.get(), F_DUPFD_CLOEXEC, 0));
  if (!socket_dup_) return fail(Errc::kSystem, std::string("dup of the session socket: ") + std::strerror(errno));
  bool ok = freerdp_settings_set_string(s, FreeRDP_ServerHostname, "|") &&
            freerdp_settings_set_uint32(s, FreeRDP_ServerPort, static_cast<UINT32>(socket_.get())) &&
            // The fast-connect Sleep() (winpr_connect_sleep.cpp) wakes per reply: give the connect
            // loop (TcpAckTimeout / 100 turns) room for every reply of a slow server.
            freerdp_settings_set_uint32(s, FreeRDP_TcpAckTimeout, 30000);
  // Exactly one security protocol: negotiation failure would otherwise make nego.c reconnect,
  // which an external fd cannot do. Same reason for auto-reconnect.
  ok = ok && freerdp_settings_set_bool(s, FreeRDP_RdpSecurity, config_.security == Security::kRdp) &&
       freerdp_settings_set_bool(s, FreeRDP_TlsSecurity, config_.security == Security::kTls) &&
       freerdp_settings_set_bool(s, FreeRDP_NlaSecurity, FALSE) &&
       freerdp_settings_set_bool(s, FreeRDP_ExtSecurity, FALSE) &&
       freerdp_settings_set_bool(s, FreeRDP_UseRdpSecurityLayer, config_.security == Security::kRdp) &&
       freerdp_settings_set_bool(s, FreeRDP_AutoReconnectionEnabled, FALSE) &&
       freerdp_settings_set_bool(s, FreeRDP_ExternalCertificateManagement, TRUE) &&
       freerdp_settings_set_bool(s, FreeRDP_IgnoreCertificate, FALSE) &&
       freerdp_settings_set_uint32(s, FreeRDP_KeyboardLayout,
                                   config_.keyboard_layout ? config_.keyboard_layout : detect_host_keyboard_layout()) &&
       freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, config_.width) &&
       freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, config_.height) &&
       freerdp_settings_set_uint32(s, FreeRDP_ColorDepth, 32) &&
       freerdp_settings_set_bool(s, FreeRDP_SoftwareGdi, TRUE) &&
       freerdp_settings_set_bool(s, FreeRDP_SurfaceCommandsEnabled, TRUE) &&
       freerdp_settings_set_bool(s, FreeRDP_FastPathOutput, TRUE) &&
       freerdp_settings_set_bool(s, FreeRDP_SupportGraphicsPipeline, FALSE) &&
       // No lossy codec is advertised (FreeRDP's defaults, made explicit): servers send raw
       // SurfaceBits or planar/interleaved bitmaps, so the framebuffer is exactly the server's
       // pixels at 32 bpp (the full-desktop test compares them with a screenshot).
       freerdp_settings_set_bool(s, FreeRDP_RemoteFxCodec, FALSE) &&
       freerdp_settings_set_bool(s, FreeRDP_NSCodec, FALSE) &&
       freerdp_settings_set_bool(s, FreeRDP_JpegCodec, FALSE) &&
       freerdp_settings_set_bool(s, FreeRDP_AudioPlayback, FALSE) &&
       freerdp_settings_set_bool(s, FreeRDP_DeviceRedirection, FALSE) &&
       freerdp_settings_set_bool(s, FreeRDP_RedirectClipboard, FALSE) &&
       // RdpClient::start resolved kAuto. Sent as INFO_COMPRESSION, which the server adopts.
       freerdp_settings_set_bool(s, FreeRDP_CompressionEnabled, config_.bulk_compression == BulkCompression::kOn) &&
       str(FreeRDP_Username, config_.username) && str(FreeRDP_Password, config_.password) &&
       freerdp_settings_set_bool(s, FreeRDP_RemoteApplicationMode, config_.remote_app);
  if (config_.remote_app) {
    ok = ok && str(FreeRDP_RemoteApplicationProgram, config_.program) &&
         str(FreeRDP_RemoteApplicationCmdLine, config_.arguments) &&
         str(FreeRDP_RemoteApplicationWorkingDir, config_.working_dir) &&
         freerdp_settings_set_uint32(s, FreeRDP_RemoteAppNumIconCaches, config_.limits.icon_caches) &&
         freerdp_settings_set_uint32(s, FreeRDP_RemoteAppNumIconCacheEntries, config_.limits.icon_cache_entries);
  }
  if (!ok) return fail(Errc::kConfig, "FreeRDP rejected a setting");
  (void)socket_.release();
  return {};
}

void RdpClient::Session::run() {
  freerdp* inst = context_->instance;
  t_connecting_fd = socket_fd_;
  const bool connected = freerdp_connect(inst);
  t_connecting_fd = -1;
  if (!connected) {
    std::optional<Error> why;
    {
      std::lock_guard lock(mutex_);
      why = error_;
    }
    if (!why) why = Error{Errc::kConnect, 0, "RDP connection failed: " + freerdp_reason(context_)};
    return finish(why);
  }
  if (!config_.remote_app) mark_connected();
  std::optional<Error> why;
  for (;;) {
    HANDLE handles[MAXIMUM_WAIT_OBJECTS];
    DWORD count = freerdp_get_event_handles(context_, handles, MAXIMUM_WAIT_OBJECTS - 1);
    if (count == 0) {
      why = Error{Errc::kSystem, 0, "FreeRDP gave no event handles"};
      break;
    }
    handles[count++] = wake_;
    WaitForMultipleObjects(count, handles, FALSE, 100);
    {
      std::lock_guard lock(mutex_);
      if (stop_requested_) break;
      if (error_) break;
    }
    drain_commands();
    // Every framebuffer write (decode, resize) happens inside this call on this thread.
    display_.framebuffer_writes_begin();
    const BOOL handled = freerdp_check_event_handles(context_);
    display_.framebuffer_writes_end();
    if (!handled) {
      why = Error{Errc::kClosed, 0, "the RDP connection ended: " + freerdp_reason(context_)};
      break;
    }
    if (freerdp_shall_disconnect(inst)) {
      why = Error{Errc::kClosed, 0, "the server ended the RDP session: " + freerdp_reason(context_)};
      break;
    }
  }
  freerdp_disconnect(inst);
  {
    std::lock_guard lock(mutex_);
    if (stop_requested_ && !error_) why.reset();
  }
  finish(why);
}

void RdpClient::Session::finish(std::optional<Error> error) {
  std::optional<Error> final_error;
  {
    std::lock_guard lock(mutex_);
    if (!error_ && error && !stop_requested_) error_ = std::move(error);
    phase_ = Phase::kEnded;
    commands_.clear();
    final_error = error_;
  }
  cv_.notify_all();
  if (config_.on_end) config_.on_end(final_error);
}

void RdpClient::Session::mark_connected() {
  {
    std::lock_guard lock(mutex_);
    if (phase_ == Phase::kStarting) phase_ = Phase::kConnected;
  }
  cv_.notify_all();
}

Result<void> RdpClient::Session::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!cv_.wait_for(lock, timeout, [this] { return phase_ != Phase::kStarting; }))
    return fail(Errc::kConnect, "no RDP session within " + std::to_string(timeout.count()) + " ms");
  if (phase_ == Phase::kEnded)
    return std::unexpected(error_.value_or(Error{Errc::kClosed, 0, "the session was stopped"}));
  return {};
}

bool RdpClient::Session::wait_ended(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return phase_ == Phase::kEnded; });
}

bool RdpClient::Session::running() const {
  std::lock_guard lock(mutex_);
  return phase_ != Phase::kEnded;
}

std::optional<Error> RdpClient::Session::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

ClientStats RdpClient::Session::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void RdpClient::Session::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  if (wake_) SetEvent(wake_);
  // stop() may run on two threads at once (a RemoteSession's supervisor and its owner): one
  // joins, the other waits for that join instead of joining the same thread again.
  std::lock_guard join(join_mutex_);
  // Thread-safe in FreeRDP: sets the abort event a connect in progress watches.
  if (context_ && thread_.joinable()) freerdp_abort_connect(context_->instance);
  {
    // Not every wait inside freerdp_connect() watches that event (a silent server could keep
    // stop() waiting for the whole TcpAckTimeout): while still connecting, end the socket too,
    // so that every read and the fast-connect Sleep() return at once. A connected session is
    // left to disconnect politely.
    std::lock_guard lock(mutex_);
    if (phase_ == Phase::kStarting && socket_dup_) ::shutdown(socket_dup_.get(), SHUT_RDWR);
  }
  if (thread_.joinable()) thread_.join();
}

void RdpClient::Session::post(std::function<void(Session&)> command) {
  {
    std::lock_guard lock(mutex_);
    if (phase_ == Phase::kEnded) return;
    commands_.push_back(std::move(command));
  }
  SetEvent(wake_);
}

void RdpClient::Session::drain_commands() {
  std::deque<std::function<void(Session&)>> batch;
  {
    std::lock_guard lock(mutex_);
    ResetEvent(wake_);
    batch.swap(commands_);
  }
  for (auto& command : batch) command(*this);
}

BOOL RdpClient::Session::failed(Error error) {
  {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
  }
  SetEvent(wake_);
  return FALSE;
}

BOOL RdpClient::Session::pre_connect() {
  PubSub_SubscribeChannelConnected(context_->pubSub, on_channel_connected);
  PubSub_SubscribeChannelDisconnected(context_->pubSub, on_channel_disconnected);
  // Loads the static channels the settings ask for: "rail" in RemoteApp mode.
  return freerdp_client_load_addins(context_->channels, context_->settings);
}

bool RdpClient::Session::setup_framebuffer(std::uint32_t width, std::uint32_t height, bool resize) {
  const std::uint32_t stride = (width * 4 + 63) & ~63u;
  const std::size_t bytes = std::size_t{stride} * height;
  std::byte* memory = nullptr;
  OwnedFramebuffer fresh;
  auto provided = display_.provide_framebuffer(width, height, stride);
  if (provided.size() >= bytes && (reinterpret_cast<std::uintptr_t>(provided.data()) & 15) == 0) {
    memory = provided.data();
  } else {
    if (!fresh.allocate(bytes)) return false;
    memory = fresh.data();
  }
  auto* buffer = reinterpret_cast<BYTE*>(memory);
  const BOOL ok = resize ? gdi_resize_ex(context_->gdi, width, height, stride, PIXEL_FORMAT_BGRX32, buffer,
                                         keep_framebuffer)
                         : gdi_init_ex(context_->instance, PIXEL_FORMAT_BGRX32, stride, buffer, keep_framebuffer);
  if (!ok) return false;
  owned_fb_.swap(fresh);  // the old buffer (if ours) goes away only now
  fb_ = FramebufferView{memory, width, height, stride};
  display_.framebuffer_changed(fb_);
  return true;
}

BOOL RdpClient::Session::post_connect() {
  rdpSettings* s = context_->settings;
  const UINT32 w = freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth);
  const UINT32 h = freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight);
  if (!setup_framebuffer(w, h, false))
    return failed(Error{Errc::kSystem, 0, "cannot set up a " + std::to_string(w) + "x" + std::to_string(h) +
                                           " framebuffer"});
  rdpUpdate* update = context_->update;
  update->BeginPaint = [](rdpContext* c) { return of(c).begin_paint(); };
  update->EndPaint = [](rdpContext* c) { return of(c).end_paint(); };
  update->DesktopResize = [](rdpContext* c) { return of(c).desktop_resize(); };
  rdpWindowUpdate* window = update->window;
  window->WindowCreate = on_window_create;
  window->WindowUpdate = on_window_update;
  window->WindowIcon = on_window_icon;
  window->WindowCachedIcon = on_window_cached_icon;
  window->WindowDelete = on_window_delete;
  window->NotifyIconCreate = on_notify_icon_create;
  window->NotifyIconUpdate = on_notify_icon_update;
  window->NotifyIconDelete = on_notify_icon_delete;
  window->MonitoredDesktop = on_monitored_desktop;
  window->NonMonitoredDesktop = on_non_monitored_desktop;
  return TRUE;
}

void RdpClient::Session::post_disconnect() {
  PubSub_UnsubscribeChannelConnected(context_->pubSub, on_channel_connected);
  PubSub_UnsubscribeChannelDisconnected(context_->pubSub, on_channel_disconnected);
  gdi_free(context_->instance);
  rail_ = nullptr;
}

int RdpClient::Session::verify_x509(const BYTE* pem, size_t length) {
  CertPinStore store(config_.pin_dir);
  auto verdict = store.verify(config_.vm_name, std::span<const std::uint8_t>(pem, length));
  if (!verdict) {
    failed(verdict.error());
    return -1;
  }
  return 1;
}

BOOL RdpClient::Session::begin_paint() {
  HGDI_WND hwnd = context_->gdi->primary->hdc->hwnd;
  hwnd->invalid->null = TRUE;
  hwnd->ninvalid = 0;
  return TRUE;
}

BOOL RdpClient::Session::end_paint() {
  HGDI_WND hwnd = context_->gdi->primary->hdc->hwnd;
  if (hwnd->invalid->null || hwnd->ninvalid <= 0) return TRUE;
  damage_.clear();
  const auto fw = static_cast<std::int64_t>(fb_.width);
  const auto fh = static_cast<std::int64_t>(fb_.height);
  for (INT32 i = 0; i < hwnd->ninvalid; ++i) {
    const GDI_RGN& r = hwnd->cinvalid[i];
    const std::int64_t x0 = std::clamp<std::int64_t>(r.x, 0, fw);
    const std::int64_t y0 = std::clamp<std::int64_t>(r.y, 0, fh);
    const std::int64_t x1 = std::clamp<std::int64_t>(std::int64_t{r.x} + r.w, 0, fw);
    const std::int64_t y1 = std::clamp<std::int64_t>(std::int64_t{r.y} + r.h, 0, fh);
    if (x1 > x0 && y1 > y0)
      damage_.push_back({static_cast<std::int32_t>(x0), static_cast<std::int32_t>(y0),
                         static_cast<std::uint32_t>(x1 - x0), static_cast<std::uint32_t>(y1 - y0)});
  }
  hwnd->invalid->null = TRUE;
  hwnd->ninvalid = 0;
  if (damage_.empty()) return TRUE;
  {
    std::lock_guard lock(mutex_);
    stats_.paints += 1;
    stats_.damage_rects += damage_.size();
  }
  display_.damaged(fb_, damage_);
  // USDT frame_decoded(width, height, pixels): the damage's bounding box and the damaged pixel
  // count of this paint, once the sink has it (perf/include/vitrine/perf/probes.hpp).
  std::int64_t x0 = fw, y0 = fh, x1 = 0, y1 = 0;
  std::uint64_t pixels = 0;
  for (const DesktopRect& r : damage_) {
    x0 = std::min<std::int64_t>(x0, r.x);
    y0 = std::min<std::int64_t>(y0, r.y);
    x1 = std::max<std::int64_t>(x1, r.x + std::int64_t{r.width});
    y1 = std::max<std::int64_t>(y1, r.y + std::int64_t{r.height});
    pixels += std::uint64_t{r.width} * r.height;
  }
  [[maybe_unused]] const auto box_width = static_cast<std::uint32_t>(x1 - x0);
  [[maybe_unused]] const auto box_height = static_cast<std::uint32_t>(y1 - y0);
  VITRINE_PROBE3(frame_decoded, box_width, box_height, pixels);
  return TRUE;
}

BOOL RdpClient::Session::desktop_resize() {
  rdpSettings* s = context_->settings;
  const UINT32 w = freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth);
  const UINT32 h = freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight);
  if (w == 0 || h == 0 || w > 8192 || h > 8192)
    return failed(Error{Errc::kLimit, 0, "the server resized the desktop to " + std::to_string(w) + "x" +
                                          std::to_string(h) + " (allowed 1..8192)"});
  if (!setup_framebuffer(w, h, true))
    return failed(Error{Errc::kSystem, 0, "cannot resize the framebuffer to " + std::to_string(w) + "x" +
                                           std::to_string(h)});
  return TRUE;
}

}  // namespace vitrine::rdpmux::host
