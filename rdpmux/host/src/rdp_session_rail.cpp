// RdpClient::Session's RemoteApp half (MS-RDPERP): the rail channel's callbacks, the client's
// handshake answer, program execution and its results, local move/size. The connection, the
// event loop and the framebuffer are in rdp_session.cpp.
#include <freerdp/client/rail.h>

#include <string>
#include <string_view>

#include "rail_orders.hpp"
#include "rdp_session.hpp"

namespace vitrine::rdpmux::host {
namespace {

RdpClient::Session& of(RailClientContext* rail) { return *static_cast<RdpClient::Session*>(rail->custom); }

UINT rail_ok_sysparam(RailClientContext*, const RAIL_SYSPARAM_ORDER*) { return CHANNEL_RC_OK; }
UINT rail_ok_minmax(RailClientContext*, const RAIL_MINMAXINFO_ORDER*) { return CHANNEL_RC_OK; }
UINT rail_ok_langbar(RailClientContext*, const RAIL_LANGBAR_INFO_ORDER*) { return CHANNEL_RC_OK; }
UINT rail_ok_appid(RailClientContext*, const RAIL_GET_APPID_RESP_ORDER*) { return CHANNEL_RC_OK; }
UINT rail_handshake(RailClientContext* r, const RAIL_HANDSHAKE_ORDER*) { return of(r).rail_server_handshake(); }
UINT rail_handshake_ex(RailClientContext* r, const RAIL_HANDSHAKE_EX_ORDER*) {
  return of(r).rail_server_handshake();
}
UINT rail_on_exec_result(RailClientContext* r, const RAIL_EXEC_RESULT_ORDER* o) { return of(r).rail_exec_result(*o); }
UINT rail_on_local_move_size(RailClientContext* r, const RAIL_LOCALMOVESIZE_ORDER* o) {
  return of(r).rail_local_move_size(*o);
}

// MS-RDPERP 2.2.2.3.1: TS_RAIL_EXEC_FLAG_FILE says ExeOrFile names a file to open with its
// associated program; "||alias" names a published application and goes without it. FreeRDP's
// rail plugin sends the flags it is given.
UINT16 exec_flags(const std::string& program) {
  return program.starts_with("||") ? 0 : static_cast<UINT16>(TS_RAIL_EXEC_FLAG_FILE);
}

}  // namespace

void RdpClient::Session::channel_connected(const char* name, void* interface) {
  if (std::string_view(name) != RAIL_SVC_CHANNEL_NAME) return;
  rail_ = static_cast<RailClientContext*>(interface);
  rail_->custom = this;
  rail_->ServerHandshake = rail_handshake;
  rail_->ServerHandshakeEx = rail_handshake_ex;
  rail_->ServerExecuteResult = rail_on_exec_result;
  rail_->ServerSystemParam = rail_ok_sysparam;
  rail_->ServerLocalMoveSize = rail_on_local_move_size;
  rail_->ServerMinMaxInfo = rail_ok_minmax;
  rail_->ServerLanguageBarInfo = rail_ok_langbar;
  rail_->ServerGetAppIdResponse = rail_ok_appid;
}

void RdpClient::Session::channel_disconnected(const char* name) {
  if (std::string_view(name) == RAIL_SVC_CHANNEL_NAME) rail_ = nullptr;
}

// MS-RDPERP 1.3.2.1: after the server's handshake the client sends its status, system
// parameters and the program to execute.
UINT RdpClient::Session::rail_server_handshake() {
  if (!rail_) return ERROR_INTERNAL_ERROR;
  RAIL_CLIENT_STATUS_ORDER status{};
  status.flags = TS_RAIL_CLIENTSTATUS_ALLOWLOCALMOVESIZE;
  UINT rc = rail_->ClientInformation(rail_, &status);
  if (rc != CHANNEL_RC_OK) return rc;
  RAIL_SYSPARAM_ORDER sp{};
  const auto w = static_cast<UINT16>(fb_.width ? fb_.width : config_.width);
  const auto h = static_cast<UINT16>(fb_.height ? fb_.height : config_.height);
  sp.params = SPI_MASK_SET_HIGH_CONTRAST | SPI_MASK_TASKBAR_POS | SPI_MASK_SET_MOUSE_BUTTON_SWAP |
              SPI_MASK_SET_KEYBOARD_PREF | SPI_MASK_SET_DRAG_FULL_WINDOWS | SPI_MASK_SET_KEYBOARD_CUES |
              SPI_MASK_SET_WORK_AREA;
  sp.highContrast.flags = 0x7E;
  sp.workArea = {0, 0, w, h};
  sp.taskbarPos = {0, h, w, h};
  sp.dragFullWindows = FALSE;
  rc = rail_->ClientSystemParam(rail_, &sp);
  if (rc != CHANNEL_RC_OK) return rc;
  // No program: the applications already run (a reconnect); the session is up without an
  // Execute Result to wait for.
  if (config_.program.empty()) {
    mark_connected();
    return CHANNEL_RC_OK;
  }
  RAIL_EXEC_ORDER exec{};
  rdpSettings* s = context_->settings;
  // RAIL_EXEC_ORDER has non-const pointers; the rail plugin only reads them.
  const auto text = [s](size_t id) { return const_cast<char*>(freerdp_settings_get_string(s, id)); };
  exec.RemoteApplicationProgram = text(FreeRDP_RemoteApplicationProgram);
  exec.RemoteApplicationWorkingDir = text(FreeRDP_RemoteApplicationWorkingDir);
  exec.RemoteApplicationArguments = text(FreeRDP_RemoteApplicationCmdLine);
  exec.flags = exec_flags(config_.program);
  rc = rail_->ClientExecute(rail_, &exec);
  if (rc != CHANNEL_RC_OK) return rc;
  execs_in_flight_.push_back({0, config_.program});
  mark_connected();
  return rc;
}

namespace {

std::string describe_exec_failure(const std::string& program, const RAIL_EXEC_RESULT_ORDER& result) {
  char raw[16];
  std::snprintf(raw, sizeof raw, "0x%08X", result.rawResult);
  return "the guest could not start '" + program + "': " + std::string(exec_result_name(result.execResult)) +
         " (exec result " + std::to_string(result.execResult) + ", raw result " + raw + ")";
}

}  // namespace

UINT RdpClient::Session::rail_exec_result(const RAIL_EXEC_RESULT_ORDER& result) {
  // An Execute Result nobody asked for: nothing waits on it, so it changes nothing.
  if (execs_in_flight_.empty()) return CHANNEL_RC_OK;
  const PendingExec pending = std::move(execs_in_flight_.front());
  execs_in_flight_.pop_front();
  const bool ok = result.execResult == RAIL_EXEC_S_OK;
  if (pending.id == 0) {
    // The handshake's program is why this session exists: without it the session is useless.
    // kExec, not kConnect: connecting again would only be refused again (RemoteSession).
    if (!ok) failed(Error{Errc::kExec, 0, describe_exec_failure(pending.program, result)});
    return CHANNEL_RC_OK;
  }
  complete_exec(pending.id, ok ? Result<void>{} : fail(Errc::kExec, describe_exec_failure(pending.program, result)));
  return CHANNEL_RC_OK;
}

void RdpClient::Session::send_exec(std::uint64_t id, const ExecRequest& request) {
  if (!rail_) return complete_exec(id, fail(Errc::kClosed, "the RAIL channel is gone; cannot start '" + request.program + "'"));
  // RAIL_EXEC_ORDER has non-const pointers; the rail plugin only reads them. Empty strings go as
  // null, as the handshake's do.
  const auto text = [](const std::string& v) { return v.empty() ? nullptr : const_cast<char*>(v.c_str()); };
  RAIL_EXEC_ORDER order{};
  order.RemoteApplicationProgram = text(request.program);
  order.RemoteApplicationArguments = text(request.arguments);
  order.RemoteApplicationWorkingDir = text(request.working_dir);
  order.flags = exec_flags(request.program);
  const UINT rc = rail_->ClientExecute(rail_, &order);
  if (rc != CHANNEL_RC_OK)
    return complete_exec(id, fail(Errc::kSystem, "sending the Client Execute for '" + request.program +
                                                     "' failed (channel error " + std::to_string(rc) + ")"));
  execs_in_flight_.push_back({id, request.program});
}

void RdpClient::Session::complete_exec(std::uint64_t id, Result<void> result) {
  {
    std::lock_guard lock(mutex_);
    if (exec_abandoned_.erase(id) != 0) return;
    exec_done_.insert_or_assign(id, std::move(result));
  }
  cv_.notify_all();
}

Result<void> RdpClient::Session::exec(const ExecRequest& request, std::chrono::milliseconds timeout) {
  if (!config_.remote_app) return fail(Errc::kConfig, "exec needs a RemoteApp session (ClientConfig::remote_app)");
  if (request.program.empty()) return fail(Errc::kConfig, "exec needs a program");
  if (std::this_thread::get_id() == thread_.get_id())
    return fail(Errc::kConfig, "exec called on the session thread (from a callback): it would wait for itself");
  std::lock_guard serial(exec_calls_);
  std::unique_lock lock(mutex_);
  if (phase_ == Phase::kEnded)
    return std::unexpected(error_.value_or(Error{Errc::kClosed, 0, "the session was stopped"}));
  if (phase_ != Phase::kConnected)
    return fail(Errc::kConnect, "exec of '" + request.program + "' before the RAIL session is up");
  const std::uint64_t id = next_exec_id_++;
  commands_.push_back([id, request](Session& s) { s.send_exec(id, request); });
  SetEvent(wake_);
  cv_.wait_for(lock, timeout, [&] { return exec_done_.contains(id) || phase_ == Phase::kEnded; });
  if (auto it = exec_done_.find(id); it != exec_done_.end()) {
    Result<void> result = std::move(it->second);
    exec_done_.erase(it);
    return result;
  }
  exec_abandoned_.insert(id);  // a late answer is dropped
  if (phase_ == Phase::kEnded)
    return std::unexpected(Error{Errc::kClosed, 0, "the session ended before the guest answered the exec of '" +
                                                    request.program + "'" +
                                                    (error_ ? ": " + to_string(*error_) : std::string())});
  return fail(Errc::kTimeout, "no Execute Result for '" + request.program + "' within " +
                                  std::to_string(timeout.count()) + " ms");
}

UINT RdpClient::Session::rail_local_move_size(const RAIL_LOCALMOVESIZE_ORDER& o) {
  if (!model_.find(o.windowId)) return CHANNEL_RC_OK;  // a window already gone: nothing to move
  windows_.local_move_size(LocalMoveSize{o.windowId, o.isMoveSizeStart != FALSE, o.moveSizeType,
                                                 DesktopPoint{o.posX, o.posY}});
  return CHANNEL_RC_OK;
}

}  // namespace vitrine::rdpmux::host
