// RdpClient::Session: the FreeRDP objects of one client session and its session thread.
// Private to rdpmux/host. Every FreeRDP callback lands here through SessionContext.
#pragma once

#include <freerdp/client.h>
#include <freerdp/client/rail.h>
#include <freerdp/freerdp.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace vitrine::rdpmux::host {

// Page-aligned desktop memory when the sink provides none.
class OwnedFramebuffer {
 public:
  OwnedFramebuffer() = default;
  ~OwnedFramebuffer() { reset(); }
  OwnedFramebuffer(const OwnedFramebuffer&) = delete;
  OwnedFramebuffer& operator=(const OwnedFramebuffer&) = delete;
  bool allocate(std::size_t bytes);
  void reset();
  std::byte* data() const { return data_; }
  void swap(OwnedFramebuffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

class RdpClient::Session {
 public:
  Session(ClientConfig config, ringbus::UniqueFd socket, DisplaySink& display, WindowEvents& windows);
  ~Session();

  // Caller's thread, before start_thread(): creates the FreeRDP context and applies the settings.
  Result<void> configure();
  void start_thread();
  Result<void> wait_connected(std::chrono::milliseconds timeout);
  bool wait_ended(std::chrono::milliseconds timeout);
  bool running() const;
  std::optional<Error> error() const;
  void stop();
  ClientStats stats() const;
  // Queues `command` for the session thread (dropped once the session ended).
  void post(std::function<void(Session&)> command);
  Result<void> exec(const ExecRequest& request, std::chrono::milliseconds timeout);

  freerdp* instance() const { return context_ ? context_->instance : nullptr; }
  RailClientContext* rail() const { return rail_; }
  const ClientConfig& config() const { return config_; }
  WindowModel& model() { return model_; }

  // ---- FreeRDP callbacks (session thread) ---------------------------------------------------
  BOOL pre_connect();
  BOOL post_connect();
  void post_disconnect();
  int verify_x509(const BYTE* pem, size_t length);
  BOOL begin_paint();
  BOOL end_paint();
  BOOL desktop_resize();
  void channel_connected(const char* name, void* interface);
  void channel_disconnected(const char* name);
  UINT rail_server_handshake();
  UINT rail_exec_result(const RAIL_EXEC_RESULT_ORDER& result);
  UINT rail_local_move_size(const RAIL_LOCALMOVESIZE_ORDER& order);
  // A model or protocol failure inside a callback: remember why and make FreeRDP stop.
  BOOL failed(Error error);

 private:
  void run();
  bool setup_framebuffer(std::uint32_t width, std::uint32_t height, bool resize);
  void mark_connected();
  void finish(std::optional<Error> error);
  void drain_commands();
  // Session thread: sends one Client Execute for exec() request `id` (0: the handshake's).
  void send_exec(std::uint64_t id, const ExecRequest& request);
  // Any thread: hands exec() request `id` its answer (dropped if its caller gave up).
  void complete_exec(std::uint64_t id, Result<void> result);

  ClientConfig config_;
  ringbus::UniqueFd socket_;
  int socket_fd_ = -1;  // socket_'s number after FreeRDP took it over (for Sleep() in connect)
  // A second descriptor of the same socket, ours alone (FreeRDP may close socket_fd_ at any
  // time): stop() shuts the socket down through it to end a connect that waits for a server
  // which stopped answering (FreeRDP's connect does not always look at its abort event).
  ringbus::UniqueFd socket_dup_;
  DisplaySink& display_;
  WindowEvents& windows_;
  WindowModel model_;
  rdpContext* context_ = nullptr;
  RailClientContext* rail_ = nullptr;
  HANDLE wake_ = nullptr;  // winpr event: commands queued or stop requested
  OwnedFramebuffer owned_fb_;
  FramebufferView fb_;
  std::vector<DesktopRect> damage_;
  // Client Executes awaiting their Execute Result, oldest first (session thread only). The
  // server answers in order (MS-RDPERP 3.3.5.2.2), so results are matched by position.
  struct PendingExec {
    std::uint64_t id;  // 0: the handshake's program
    std::string program;
  };
  std::deque<PendingExec> execs_in_flight_;
  std::mutex exec_calls_;  // serializes exec() callers
  std::mutex join_mutex_;  // serializes stop()'s join

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  enum class Phase { kStarting, kConnected, kEnded } phase_ = Phase::kStarting;
  bool stop_requested_ = false;
  std::optional<Error> error_;
  std::deque<std::function<void(Session&)>> commands_;
  ClientStats stats_;
  std::uint64_t next_exec_id_ = 1;
  std::map<std::uint64_t, Result<void>> exec_done_;  // answers not yet taken by their caller
  std::set<std::uint64_t> exec_abandoned_;           // callers that timed out
  std::thread thread_;
};

}  // namespace vitrine::rdpmux::host
