// The launcher socket of a running instance: a Unix stream socket, mode 0600 in a 0700 folder,
// that accepts requests (launcher_protocol.hpp) only from the instance's own user (SO_PEERCRED
// uid check: the file mode is the first gate, the credential check the second, which also
// covers root-owned peers and descriptor passing). One request per connection. The accepting
// thread hands each connection to a worker of its own, at most max_clients at once (past that a
// client gets a "busy" reply at once): a launch waits up to 30 s for the guest and a client may
// send nothing for client_timeout, and neither may hold up `vitrine apps`, `stats` or another
// launch. InstanceService implementations are therefore called from several threads.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <expected>

#include "instance_service.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::cli {

struct LauncherServerOptions {
  std::filesystem::path socket_path;
  uid_t allowed_uid = static_cast<uid_t>(-1);  // -1: the process's effective uid
  std::chrono::milliseconds client_timeout{2000};
  unsigned max_clients = 8;  // connections served at once
};

class LauncherServer {
 public:
  // Binds and starts serving. Refuses (with a message) when another instance answers on the
  // path; removes a stale socket file left by a crashed instance.
  static std::expected<std::unique_ptr<LauncherServer>, std::string> start(LauncherServerOptions options,
                                                                           InstanceService& service);
  ~LauncherServer();  // stops the thread and removes the socket file
  LauncherServer(const LauncherServer&) = delete;
  LauncherServer& operator=(const LauncherServer&) = delete;

  const std::filesystem::path& path() const { return options_.socket_path; }
  std::uint64_t requests_served() const { return served_.load(std::memory_order_relaxed); }
  std::uint64_t requests_refused() const { return refused_.load(std::memory_order_relaxed); }
  std::uint64_t clients_turned_away() const { return busy_.load(std::memory_order_relaxed); }

 private:
  LauncherServer(LauncherServerOptions options, InstanceService& service, ringbus::UniqueFd listen_fd,
                 ringbus::UniqueFd stop_fd);
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  void loop();
  void reap_workers(bool all);
  void serve_client(int fd);
  std::string handle(std::string_view line);

  LauncherServerOptions options_;
  InstanceService& service_;
  ringbus::UniqueFd listen_fd_;
  ringbus::UniqueFd stop_fd_;  // eventfd: written by the destructor to end loop()
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> busy_{0};
  std::vector<Worker> workers_;  // only the accepting thread touches it
  std::thread thread_;
};

}  // namespace vitrine::cli
