// Gateway: exposes RDP-over-the-bus as a local Unix socket, so existing clients (xfreerdp
// /v:/path/to/socket, Remmina) use the bus too. Every client that connects gets its own relayed
// connection (the `opener`, typically HostMux::open of the guest's RDP target) and a
// ConnectionBridge between the two. `vitrine connect --listen PATH` (cli/) is a thin wrapper.
//
// Threads: one accept thread; one ConnectionBridge thread per client. A client whose connection
// cannot be opened is disconnected at once and last_error() says why; the gateway keeps going.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "vitrine/rdpmux/mux/connection.hpp"
#include "vitrine/rdpmux/host/connection_bridge.hpp"
#include "vitrine/rdpmux/host/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::rdpmux::host {

class Gateway {
 public:
  using Opener = std::function<rdpmux::Result<std::unique_ptr<rdpmux::Connection>>()>;

  // Binds `path` (an existing socket file there is replaced; other files are refused), mode 0600.
  static Result<std::unique_ptr<Gateway>> listen(std::filesystem::path path, Opener opener);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Stops accepting, ends every bridge, removes the socket file. Idempotent.
  void stop();
  const std::filesystem::path& path() const { return path_; }
  std::uint64_t accepted() const { return accepted_.load(std::memory_order_relaxed); }
  std::size_t active() const;
  std::optional<Error> last_error() const;

 private:
  Gateway(std::filesystem::path path, Opener opener, ringbus::UniqueFd listen_fd, ringbus::UniqueFd stop_fd);
  void run();

  std::filesystem::path path_;
  Opener opener_;
  ringbus::UniqueFd listen_fd_;
  ringbus::UniqueFd stop_fd_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> accepted_{0};
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<ConnectionBridge>> bridges_;
  std::optional<Error> last_error_;
  std::thread thread_;
};

}  // namespace vitrine::rdpmux::host
