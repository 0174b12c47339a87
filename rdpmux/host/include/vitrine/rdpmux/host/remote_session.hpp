// RemoteSession: one RDP session with the guest that outlives the guest's RDP server restarting.
// What `vitrine run` uses. It owns the chain
//
//   opener() -> rdpmux::Connection -> ConnectionBridge -> socketpair -> RdpClient
//
// and, when the session ends with a transport or server error (the guest's server went away:
// Errc::kClosed, or a reconnect attempt that cannot reach it yet: kConnect, kTimeout), opens a
// new connection through the bus and starts a new RdpClient, waiting reconnect_delay before
// the first attempt and doubling it (capped at 5 s) after each failed one. Errors that a new
// connection would only repeat (kProtocol, kLimit, kCertificateChanged, kConfig, kBus, kSystem)
// end the session at once.
//
//   auto session = RemoteSession::start(
//       [&] { return mux.open(Target::tcp(3389), {.framed = true}); }, config, display, windows);
//   (*session)->exec({.program = "||gedit"}, 10s);
//   (*session)->wait_ended(...);    // error(): why it gave up
//
// Windows: before reconnecting it reports window_deleted() (and notify_icon_deleted()) for every
// window and notify icon the old session created and did not delete, so the consumer never
// keeps stale windows; the new session then creates what the server shows. By default the
// reconnect sends no Client Execute (ClientConfig::program empty: the applications still run in
// the guest); exec_on_reconnect = true starts the configured program again.
//
// Threads: DisplaySink and WindowEvents are called by the live RdpClient's session thread, and
// the reconnect's window_deleted() calls and on_reconnect by this class's supervisor thread,
// never two at a time (the old client's thread has ended before the supervisor reports, and
// the new client starts after). Input methods and exec() may be called from any thread except
// those callbacks; while no session is up, input is dropped and counted (dropped_input()).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "vitrine/rdpmux/mux/connection.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/error.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace vitrine::rdpmux::host {

struct RemoteSessionConfig {
  // The client's settings. Its on_end is called once on the supervisor thread, when the
  // RemoteSession ends for good (with the final error, or empty after stop()), not at every
  // reconnect, and not when start() itself fails.
  ClientConfig client;
  // Failed attempts in a row before giving up (0: never reconnect). A reconnect whose session
  // ends again within `stable_session` does not count as a success: a server that accepts and
  // drops every session at once is given up after max_reconnects such rounds.
  int max_reconnects = 10;
  std::chrono::milliseconds stable_session{10000};
  std::chrono::milliseconds reconnect_delay{200};   // before the first attempt; doubles, <= 5 s
  std::chrono::milliseconds connect_timeout{30000};  // per attempt: RDP handshake (+ RAIL)
  bool exec_on_reconnect = false;  // false: reconnect with an empty program (windows already run)
  // Called on the supervisor thread before each reconnect attempt (1, 2, ...) with the reason:
  // what ended the session, or why the previous attempt failed.
  std::function<void(int attempt, const Error& why)> on_reconnect;
  // Sees every chunk of every connection's bridge (ConnectionBridge's tap): stage telemetry in
  // `vitrine run`, recordings. Shared by the bridges of successive reconnects.
  std::shared_ptr<BridgeTap> tap;
};

class RemoteSession {
 public:
  using Opener = std::function<rdpmux::Result<std::unique_ptr<rdpmux::Connection>>()>;

  // Opens the first connection and waits for its session (connect_timeout). Returns once it is
  // up, or with its error (no reconnect for the first connection: the caller sees the cause).
  // `display` and `windows` must outlive the RemoteSession.
  static Result<std::unique_ptr<RemoteSession>> start(Opener opener, RemoteSessionConfig config,
                                                      DisplaySink& display, WindowEvents& windows);
  ~RemoteSession();
  RemoteSession(const RemoteSession&) = delete;
  RemoteSession& operator=(const RemoteSession&) = delete;

  // Starts one more RemoteApp program in the live session (RdpClient::exec). kClosed while
  // reconnecting or after the end.
  Result<void> exec(const ExecRequest& request, std::chrono::milliseconds timeout);

  // True until the session ended for good (also while reconnecting).
  bool running() const;
  // The final error once it gave up (or met an error it does not reconnect after); empty while
  // running and after stop().
  std::optional<Error> error() const;
  // Blocks until the session ended for good; value: true if it did within `timeout`.
  bool wait_ended(std::chrono::milliseconds timeout);
  // Ends the live client (or a reconnect in progress) and the supervisor. Idempotent.
  void stop();

  std::uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }  // succeeded
  std::uint64_t dropped_input() const { return dropped_input_.load(std::memory_order_relaxed); }
  // Summed over every client this session ran.
  ClientStats stats() const;
  // Bytes through the bridges, summed over every connection this session opened.
  std::uint64_t bytes_to_guest() const;
  std::uint64_t bytes_from_guest() const;

  // ---- input: forwarded to the live RdpClient (see rdp_client.hpp for the units) -------------
  void key(Scancode code, bool down);
  void unicode(char32_t code_point, bool down);
  void sync_locks(LockState locks);
  void mouse_move(DesktopPoint at);
  void mouse_button(MouseButton button, bool down, DesktopPoint at);
  void wheel(WheelAxis axis, int delta, DesktopPoint at);
  void activate(WindowId window, bool active);
  void system_command(WindowId window, SystemCommand command);
  void window_move(WindowId window, DesktopRect frame);
  // The host switched keyboard layouts (0: detect it now): RdpClient::keyboard_layout_changed. A
  // reconnect sends the layout of that moment anyway (client core data).
  void keyboard_layout_changed(std::uint32_t klid);

  class TrackedWindows;  // remote_session.cpp

 private:
  // One opener -> bridge -> client chain.
  struct Link {
    std::shared_ptr<RdpClient> client;
    std::unique_ptr<ConnectionBridge> bridge;
  };

  RemoteSession(Opener opener, RemoteSessionConfig config, DisplaySink& display, WindowEvents& windows);
  // Opens a connection, starts a client with `client_config` as the live link and waits for
  // its session; on failure the link is retired again.
  Result<void> connect(const ClientConfig& client_config);
  void supervise();
  // Retires the live link: stops its client and bridge, adds their counters to the totals.
  void retire_link();
  // Calls `f(client)` on the live client, or counts a dropped input.
  template <typename F>
  void forward(F f);
  void finish(std::optional<Error> error);

  Opener opener_;
  RemoteSessionConfig config_;
  DisplaySink& display_;
  std::unique_ptr<TrackedWindows> windows_;
  std::function<void(const std::optional<Error>&)> user_on_end_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  Link link_;           // the live (or connecting) chain
  bool live_ = false;   // link_.client's session is up
  bool client_ended_ = false;  // link_.client reported its end
  bool stop_requested_ = false;
  bool ended_ = false;
  std::optional<Error> error_;
  ClientStats retired_stats_;
  std::uint64_t retired_to_guest_ = 0;
  std::uint64_t retired_from_guest_ = 0;
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<std::uint64_t> dropped_input_{0};
  std::uint64_t generation_ = 0;  // which client's on_end is current
  std::thread supervisor_;
};

}  // namespace vitrine::rdpmux::host
