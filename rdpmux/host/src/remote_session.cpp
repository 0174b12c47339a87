// RemoteSession: the opener -> bridge -> client chain, and its reconnect loop.
#include "vitrine/rdpmux/host/remote_session.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace vitrine::rdpmux::host {
namespace {

constexpr std::chrono::milliseconds kMaxReconnectDelay{5000};

// Errors a new connection can cure: the guest's server went away (kClosed), is not back yet
// (kConnect: the bus open or the RDP handshake failed), or did not answer in time. The others
// would only repeat: a server that breaks the protocol or the limits, a changed certificate,
// our own configuration, a faulted bus channel, a failing system call.
bool reconnectable(const Error& error) {
  switch (error.code) {
    case Errc::kClosed:
    case Errc::kConnect:
    case Errc::kTimeout:
      return true;
    case Errc::kProtocol:
    case Errc::kLimit:
    case Errc::kCertificateChanged:
    case Errc::kBus:
    case Errc::kSystem:
    case Errc::kConfig:
    case Errc::kExec:
      return false;
  }
  return false;
}

}  // namespace

// Forwards every event and remembers which windows and notify icons are alive, so that a
// reconnect can delete what the old session left. Called by one thread at a time (see the
// header); the mutex only makes that hand-over between threads explicit.
class RemoteSession::TrackedWindows final : public WindowEvents {
 public:
  explicit TrackedWindows(WindowEvents& inner) : inner_(inner) {}

  void window_created(const WindowState& state) override {
    {
      std::lock_guard lock(mutex_);
      if (std::find(windows_.begin(), windows_.end(), state.id) == windows_.end()) windows_.push_back(state.id);
    }
    inner_.window_created(state);
  }
  void window_changed(const WindowState& state, std::uint32_t what) override { inner_.window_changed(state, what); }
  void window_deleted(WindowId id) override {
    {
      std::lock_guard lock(mutex_);
      std::erase(windows_, id);
    }
    inner_.window_deleted(id);
  }
  void z_order_changed(std::span<const WindowId> top_to_bottom) override { inner_.z_order_changed(top_to_bottom); }
  void active_window_changed(WindowId id) override { inner_.active_window_changed(id); }
  void notify_icon_changed(const NotifyIconState& state) override {
    {
      std::lock_guard lock(mutex_);
      const std::pair key{state.window, state.icon_id};
      if (std::find(icons_.begin(), icons_.end(), key) == icons_.end()) icons_.push_back(key);
    }
    inner_.notify_icon_changed(state);
  }
  void notify_icon_deleted(WindowId window, std::uint32_t icon_id) override {
    {
      std::lock_guard lock(mutex_);
      std::erase(icons_, std::pair{window, icon_id});
    }
    inner_.notify_icon_deleted(window, icon_id);
  }
  void local_move_size(const LocalMoveSize& request) override { inner_.local_move_size(request); }

  // Reports everything still alive as deleted, newest first (popups before their owners).
  // Only while no client runs.
  void forget_all() {
    std::vector<WindowId> windows;
    std::vector<std::pair<WindowId, std::uint32_t>> icons;
    {
      std::lock_guard lock(mutex_);
      windows.swap(windows_);
      icons.swap(icons_);
    }
    for (auto it = icons.rbegin(); it != icons.rend(); ++it) inner_.notify_icon_deleted(it->first, it->second);
    for (auto it = windows.rbegin(); it != windows.rend(); ++it) inner_.window_deleted(*it);
  }

 private:
  WindowEvents& inner_;
  std::mutex mutex_;
  std::vector<WindowId> windows_;  // creation order
  std::vector<std::pair<WindowId, std::uint32_t>> icons_;
};

RemoteSession::RemoteSession(Opener opener, RemoteSessionConfig config, DisplaySink& display, WindowEvents& windows)
    : opener_(std::move(opener)),
      config_(std::move(config)),
      display_(display),
      windows_(std::make_unique<TrackedWindows>(windows)),
      user_on_end_(std::move(config_.client.on_end)) {
  config_.client.on_end = nullptr;
}

RemoteSession::~RemoteSession() { stop(); }

Result<std::unique_ptr<RemoteSession>> RemoteSession::start(Opener opener, RemoteSessionConfig config,
                                                            DisplaySink& display, WindowEvents& windows) {
  if (!opener) return fail(Errc::kConfig, "RemoteSession needs an opener");
  if (config.max_reconnects < 0) return fail(Errc::kConfig, "max_reconnects must be >= 0");
  if (config.stable_session.count() < 0) return fail(Errc::kConfig, "stable_session must be >= 0");
  if (config.reconnect_delay.count() < 0 || config.connect_timeout.count() <= 0)
    return fail(Errc::kConfig, "reconnect_delay must be >= 0 and connect_timeout > 0");
  std::unique_ptr<RemoteSession> session(new RemoteSession(std::move(opener), std::move(config), display, windows));
  const ClientConfig first = session->config_.client;
  if (auto up = session->connect(first); !up) {
    session->retire_link();
    return std::unexpected(up.error());
  }
  session->supervisor_ = std::thread([s = session.get()] { s->supervise(); });
  return session;
}

Result<void> RemoteSession::connect(const ClientConfig& client_config) {
  auto connection = opener_();
  if (!connection)
    return fail(Errc::kConnect, "cannot open a connection to the guest's RDP server through the bus: " +
                                    rdpmux::to_string(connection.error()));
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return fail(Errc::kSystem, std::string("socketpair: ") + std::strerror(errno));
  ringbus::UniqueFd client_end(fds[0]);
  ringbus::UniqueFd bridge_end(fds[1]);
  auto bridge = ConnectionBridge::start(std::move(*connection), std::move(bridge_end), config_.tap);
  if (!bridge) return std::unexpected(bridge.error());

  ClientConfig cc = client_config;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    generation = ++generation_;
    client_ended_ = false;
  }
  // Session thread, once, at its end: wakes the supervisor (which does the rest on its own
  // thread: this one must not join itself).
  cc.on_end = [this, generation](const std::optional<Error>&) {
    {
      std::lock_guard lock(mutex_);
      if (generation == generation_) client_ended_ = true;
    }
    cv_.notify_all();
  };
  auto started = RdpClient::start(std::move(cc), std::move(client_end), display_, *windows_);
  if (!started) {
    (*bridge)->stop();
    return std::unexpected(started.error());
  }
  std::shared_ptr<RdpClient> client(std::move(*started));
  bool stopping = false;
  {
    std::lock_guard lock(mutex_);
    link_.client = client;
    link_.bridge = std::move(*bridge);
    live_ = false;
    stopping = stop_requested_;  // stop() ran before the client was visible to it
  }
  if (stopping) {
    retire_link();
    return fail(Errc::kClosed, "the session was stopped while connecting");
  }
  if (auto up = client->wait_connected(config_.connect_timeout); !up) {
    retire_link();
    return std::unexpected(up.error());
  }
  std::lock_guard lock(mutex_);
  live_ = true;
  return {};
}

void RemoteSession::retire_link() {
  Link old;
  {
    std::lock_guard lock(mutex_);
    old = std::move(link_);
    link_ = {};
    live_ = false;
  }
  // Outside the lock: stop() joins the client's session thread, whose on_end takes mutex_.
  if (old.client) old.client->stop();
  if (old.bridge) old.bridge->stop();
  std::lock_guard lock(mutex_);
  if (old.client) {
    const ClientStats s = old.client->stats();
    retired_stats_.paints += s.paints;
    retired_stats_.damage_rects += s.damage_rects;
  }
  if (old.bridge) {
    retired_to_guest_ += old.bridge->bytes_to_guest();
    retired_from_guest_ += old.bridge->bytes_to_socket();
  }
}

void RemoteSession::supervise() {
  std::optional<Error> final_error;
  ClientConfig again = config_.client;
  if (!config_.exec_on_reconnect) {
    again.program.clear();  // the applications still run in the guest
    again.arguments.clear();
    again.working_dir.clear();
  }
  // Attempts in a row that did not give a lasting session: a failed connect, or a session that
  // ended within stable_session. Only a session that lasted starts the count (and the back-off)
  // again; otherwise a server that drops every session at once would be reconnected forever.
  int failed = 0;
  auto delay = config_.reconnect_delay;
  auto up_since = std::chrono::steady_clock::now();
  for (;;) {
    std::shared_ptr<RdpClient> ended;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return client_ended_ || stop_requested_; });
      if (stop_requested_) break;
      ended = link_.client;
    }
    Error why = (ended ? ended->error() : std::nullopt)
                    .value_or(Error{Errc::kClosed, 0, "the RDP session ended without a reason"});
    retire_link();
    if (!reconnectable(why)) {
      final_error = std::move(why);
      break;
    }
    const bool lasted = std::chrono::steady_clock::now() - up_since >= config_.stable_session;
    if (lasted) {
      failed = 0;
      delay = config_.reconnect_delay;
    }
    windows_->forget_all();
    Error last = why;
    bool back = false;
    bool stopped = false;
    while (failed < config_.max_reconnects) {
      ++failed;
      if (config_.on_reconnect) config_.on_reconnect(failed, last);
      {
        std::unique_lock lock(mutex_);
        stopped = cv_.wait_for(lock, delay, [&] { return stop_requested_; });
      }
      if (stopped) break;
      delay = std::min(delay * 2, kMaxReconnectDelay);
      auto up = connect(again);
      if (up) {
        back = true;
        up_since = std::chrono::steady_clock::now();
        reconnects_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      {
        std::lock_guard lock(mutex_);
        stopped = stop_requested_;
      }
      if (stopped) break;
      if (!reconnectable(up.error())) {
        final_error = up.error();
        break;
      }
      last = up.error();
    }
    if (back) continue;
    if (!stopped && !final_error)
      final_error = Error{Errc::kConnect, 0, "gave up reconnecting to the guest's RDP server after " +
                                              std::to_string(config_.max_reconnects) +
                                              " attempt(s) in a row without a session that lasted " +
                                              std::to_string(config_.stable_session.count()) +
                                              " ms; the session had ended with " + to_string(why) +
                                              "; the last attempt: " + to_string(last)};
    break;
  }
  retire_link();
  windows_->forget_all();
  finish(std::move(final_error));
}

void RemoteSession::finish(std::optional<Error> error) {
  {
    std::lock_guard lock(mutex_);
    if (stop_requested_) error.reset();  // a stop is not an error
    error_ = error;
  }
  // Before ended_: whoever returns from wait_ended() finds on_end done.
  if (user_on_end_) user_on_end_(error);
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
  }
  cv_.notify_all();
}

void RemoteSession::stop() {
  std::shared_ptr<RdpClient> client;
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
    client = link_.client;
  }
  cv_.notify_all();
  // Ends the live session, or a wait_connected() in progress in connect().
  if (client) client->stop();
  if (supervisor_.joinable()) supervisor_.join();
}

bool RemoteSession::running() const {
  std::lock_guard lock(mutex_);
  return !ended_;
}

std::optional<Error> RemoteSession::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

bool RemoteSession::wait_ended(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return ended_; });
}

Result<void> RemoteSession::exec(const ExecRequest& request, std::chrono::milliseconds timeout) {
  std::shared_ptr<RdpClient> client;
  {
    std::lock_guard lock(mutex_);
    if (ended_) return fail(Errc::kClosed, "the remote session has ended; cannot start '" + request.program + "'");
    if (!live_ || !link_.client)
      return fail(Errc::kClosed, "reconnecting to the guest; cannot start '" + request.program + "' now");
    client = link_.client;
  }
  return client->exec(request, timeout);
}

ClientStats RemoteSession::stats() const {
  std::lock_guard lock(mutex_);
  ClientStats total = retired_stats_;
  if (link_.client) {
    const ClientStats s = link_.client->stats();
    total.paints += s.paints;
    total.damage_rects += s.damage_rects;
  }
  return total;
}

std::uint64_t RemoteSession::bytes_to_guest() const {
  std::lock_guard lock(mutex_);
  return retired_to_guest_ + (link_.bridge ? link_.bridge->bytes_to_guest() : 0);
}

std::uint64_t RemoteSession::bytes_from_guest() const {
  std::lock_guard lock(mutex_);
  return retired_from_guest_ + (link_.bridge ? link_.bridge->bytes_to_socket() : 0);
}

template <typename F>
void RemoteSession::forward(F f) {
  std::shared_ptr<RdpClient> client;
  {
    std::lock_guard lock(mutex_);
    if (live_) client = link_.client;
  }
  if (!client) {
    dropped_input_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  f(*client);
}

void RemoteSession::key(Scancode code, bool down) { forward([&](RdpClient& c) { c.key(code, down); }); }
void RemoteSession::unicode(char32_t cp, bool down) { forward([&](RdpClient& c) { c.unicode(cp, down); }); }
void RemoteSession::sync_locks(LockState locks) { forward([&](RdpClient& c) { c.sync_locks(locks); }); }
void RemoteSession::mouse_move(DesktopPoint at) { forward([&](RdpClient& c) { c.mouse_move(at); }); }
void RemoteSession::mouse_button(MouseButton button, bool down, DesktopPoint at) {
  forward([&](RdpClient& c) { c.mouse_button(button, down, at); });
}
void RemoteSession::wheel(WheelAxis axis, int delta, DesktopPoint at) {
  forward([&](RdpClient& c) { c.wheel(axis, delta, at); });
}
void RemoteSession::activate(WindowId window, bool active) {
  forward([&](RdpClient& c) { c.activate(window, active); });
}
void RemoteSession::system_command(WindowId window, SystemCommand command) {
  forward([&](RdpClient& c) { c.system_command(window, command); });
}
void RemoteSession::window_move(WindowId window, DesktopRect frame) {
  forward([&](RdpClient& c) { c.window_move(window, frame); });
}
void RemoteSession::keyboard_layout_changed(std::uint32_t klid) {
  forward([&](RdpClient& c) { c.keyboard_layout_changed(klid); });
}

}  // namespace vitrine::rdpmux::host
