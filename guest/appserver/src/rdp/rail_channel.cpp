#include "rail_channel.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

#include "vitrine/base/log.hpp"
#include "window_orders.hpp"

namespace vitrine::appserver::rdp {
namespace {

constexpr size_t kMaxQueued = 4096;

RailChannel* self(RailServerContext* c) { return static_cast<RailChannel*>(c->custom); }

UINT on_exec(RailServerContext* c, const RAIL_EXEC_ORDER*) {
  // FreeRDP 2.11 parses Client Execute wrongly (rail_exec_tap.hpp): Session runs the copy its
  // channel tap read, and this callback only notes that FreeRDP saw one.
  self(c)->push(RailOther{"exec (run from the channel tap)"});
  return CHANNEL_RC_OK;
}
UINT on_activate(RailServerContext* c, const RAIL_ACTIVATE_ORDER* a) {
  self(c)->push(RailActivate{a->windowId, a->enabled != FALSE});
  return CHANNEL_RC_OK;
}
UINT on_syscommand(RailServerContext* c, const RAIL_SYSCOMMAND_ORDER* s) {
  self(c)->push(RailSysCommand{s->windowId, s->command});
  return CHANNEL_RC_OK;
}
UINT on_window_move(RailServerContext* c, const RAIL_WINDOW_MOVE_ORDER* m) {
  self(c)->push(RailWindowMove{m->windowId, m->left, m->top, m->right, m->bottom});
  return CHANNEL_RC_OK;
}
UINT on_get_appid(RailServerContext* c, const RAIL_GET_APPID_REQ_ORDER* r) {
  self(c)->push(RailGetAppId{r->windowId});
  return CHANNEL_RC_OK;
}
UINT on_handshake(RailServerContext* c, const RAIL_HANDSHAKE_ORDER* h) {
  self(c)->push(RailOther{"handshake build " + std::to_string(h->buildNumber)});
  return CHANNEL_RC_OK;
}
UINT on_status(RailServerContext* c, const RAIL_CLIENT_STATUS_ORDER* s) {
  self(c)->push(RailOther{"client status flags " + std::to_string(s->flags)});
  return CHANNEL_RC_OK;
}
UINT on_sysparam(RailServerContext* c, const RAIL_SYSPARAM_ORDER* p) {
  self(c)->push(RailOther{"sysparam " + std::to_string(p->param)});
  return CHANNEL_RC_OK;
}
UINT on_sysmenu(RailServerContext* c, const RAIL_SYSMENU_ORDER* m) {
  self(c)->push(RailOther{"sysmenu window " + std::to_string(m->windowId)});
  return CHANNEL_RC_OK;
}
UINT on_notify(RailServerContext* c, const RAIL_NOTIFY_EVENT_ORDER*) {
  self(c)->push(RailOther{"notify event"});
  return CHANNEL_RC_OK;
}
UINT on_langbar(RailServerContext* c, const RAIL_LANGBAR_INFO_ORDER*) {
  self(c)->push(RailOther{"langbar info"});
  return CHANNEL_RC_OK;
}
UINT on_ime(RailServerContext* c, const RAIL_LANGUAGEIME_INFO_ORDER* i) {
  self(c)->push(RailLanguageProfile{i->ProfileType, static_cast<uint16_t>(i->LanguageID), i->KeyboardLayout});
  return CHANNEL_RC_OK;
}
UINT on_compartment(RailServerContext* c, const RAIL_COMPARTMENT_INFO_ORDER*) {
  self(c)->push(RailOther{"compartment info"});
  return CHANNEL_RC_OK;
}
UINT on_cloak(RailServerContext* c, const RAIL_CLOAK*) {
  self(c)->push(RailOther{"cloak"});
  return CHANNEL_RC_OK;
}
UINT on_snap(RailServerContext* c, const RAIL_SNAP_ARRANGE* s) {
  // A snap arrange is a window move with a different name (MS-RDPERP 2.2.2.7.5).
  self(c)->push(RailWindowMove{s->windowId, s->left, s->top, s->right, s->bottom});
  return CHANNEL_RC_OK;
}

RAIL_UNICODE_STRING to_unicode(std::vector<uint8_t>& storage, const std::string& s) {
  storage = utf8_to_utf16le(s, 260);
  return RAIL_UNICODE_STRING{static_cast<UINT16>(storage.size()), storage.data()};
}

}  // namespace

std::unique_ptr<RailChannel> RailChannel::start(void* vcm, rdpContext* context) {
  std::unique_ptr<RailChannel> ch(new RailChannel());
  ch->event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ch->event_fd_ < 0) return nullptr;
  ch->ctx_ = rail_server_context_new(vcm);
  if (!ch->ctx_) return nullptr;
  RailServerContext* c = ch->ctx_;
  c->custom = ch.get();
  c->rdpcontext = context;
  c->ClientExec = on_exec;
  c->ClientActivate = on_activate;
  c->ClientSyscommand = on_syscommand;
  c->ClientWindowMove = on_window_move;
  c->ClientGetAppidReq = on_get_appid;
  c->ClientHandshake = on_handshake;
  c->ClientClientStatus = on_status;
  c->ClientSysparam = on_sysparam;
  c->ClientSysmenu = on_sysmenu;
  c->ClientNotifyEvent = on_notify;
  c->ClientLangbarInfo = on_langbar;
  c->ClientLanguageImeInfo = on_ime;
  c->ClientCompartmentInfo = on_compartment;
  c->ClientCloak = on_cloak;
  c->ClientSnapArrange = on_snap;
  if (c->Start(c) != CHANNEL_RC_OK) return nullptr;
  return ch;
}

RailChannel::~RailChannel() {
  if (ctx_) {
    // Stop joins FreeRDP's rail thread: no callback runs after this.
    ctx_->Stop(ctx_);
    rail_server_context_free(ctx_);
  }
  if (event_fd_ >= 0) ::close(event_fd_);
}

void RailChannel::push(RailEvent ev) {
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(ev));
  }
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(event_fd_, &one, sizeof(one));
}

std::vector<RailEvent> RailChannel::take_events() {
  uint64_t counter = 0;
  [[maybe_unused]] const ssize_t n = ::read(event_fd_, &counter, sizeof(counter));
  std::vector<RailEvent> out;
  size_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    out.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    dropped = dropped_;
    dropped_ = 0;
  }
  if (dropped) base::log_warn("rail: dropped {} client PDUs over the queue bound", dropped);
  return out;
}

bool RailChannel::send_handshake() {
  RAIL_HANDSHAKE_ORDER h{};
  h.buildNumber = 7601;  // Windows 7's build: the version XP Mode's RemoteApp server had
  return ctx_->ServerHandshake(ctx_, &h) == CHANNEL_RC_OK;
}

bool RailChannel::send_exec_result(uint16_t flags, uint16_t result, uint32_t raw,
                                   const std::string& exe_or_file) {
  std::vector<uint8_t> storage;
  RAIL_EXEC_RESULT_ORDER r{};
  r.flags = flags;
  r.execResult = result;
  r.rawResult = raw;
  // Never empty: xfreerdp's rail channel fails on an empty exeOrFile (platform-notes.md).
  r.exeOrFile = to_unicode(storage, exe_or_file.empty() ? std::string("?") : exe_or_file);
  return ctx_->ServerExecResult(ctx_, &r) == CHANNEL_RC_OK;
}

bool RailChannel::send_local_move_size(uint32_t window, bool start, uint16_t type, int16_t x, int16_t y) {
  RAIL_LOCALMOVESIZE_ORDER o{};
  o.windowId = window;
  o.isMoveSizeStart = start ? TRUE : FALSE;
  o.moveSizeType = type;
  o.posX = x;
  o.posY = y;
  return ctx_->ServerLocalMoveSize(ctx_, &o) == CHANNEL_RC_OK;
}

bool RailChannel::send_min_max_info(uint32_t window, int16_t max_w, int16_t max_h) {
  RAIL_MINMAXINFO_ORDER o{};
  o.windowId = window;
  o.maxWidth = max_w;
  o.maxHeight = max_h;
  o.minTrackWidth = 1;
  o.minTrackHeight = 1;
  o.maxTrackWidth = max_w;
  o.maxTrackHeight = max_h;
  return ctx_->ServerMinMaxInfo(ctx_, &o) == CHANNEL_RC_OK;
}

bool RailChannel::send_app_id(uint32_t window, const std::string& app_id) {
  RAIL_GET_APPID_RESP_ORDER o{};
  o.windowId = window;
  const std::vector<uint8_t> u = utf8_to_utf16le(app_id, 259);
  std::memcpy(o.applicationId, u.data(), u.size());
  return ctx_->ServerGetAppidResp(ctx_, &o) == CHANNEL_RC_OK;
}

}  // namespace vitrine::appserver::rdp
