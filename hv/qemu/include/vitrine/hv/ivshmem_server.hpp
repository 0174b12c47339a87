// IvshmemServer: our implementation of the ivshmem client-server protocol (QEMU
// docs/specs/ivshmem-spec.rst, "The ivshmem Client-Server Protocol"), which QEMU's
// ivshmem-doorbell device speaks through a chardev socket. Debian ships no ivshmem-server.
//
// Protocol: one-way, server -> client; each message is one little-endian int64, optionally
// with one fd (SCM_RIGHTS). On connect: (1) version 0, (2) the client's id, (3) -1 with the
// shared memory fd, (4) for every other peer, its id once per vector with that vector's
// eventfd (used to interrupt it), (5) the client's own id once per vector with its own
// eventfds (used to receive interrupts). Later: a peer id with an fd = that peer connected,
// without = it left.
//
// Vitrine's use: the host is peer 0, always present, and is no socket client: its vector 0 is
// the bus's wake_host eventfd, so a guest write of (0 << 16 | 0) to the Doorbell register
// makes QEMU signal wake_host directly. The first VM to connect (id 1) receives wake_guest as
// its vector 0, so the host's doorbell on wake_guest becomes that VM's interrupt. Later
// clients (a debugging ivshmem-client, a second VM) get fresh eventfds.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vitrine/hv/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::hv {

using ringbus::UniqueFd;

class IvshmemServer {
 public:
  static constexpr std::int64_t kProtocolVersion = 0;
  static constexpr std::int64_t kHostPeerId = 0;

  // Listens on `socket_path` (created; removed by the destructor). The fds are borrowed and
  // must outlive the server.
  static Result<IvshmemServer> listen(const std::string& socket_path, int shm_fd, std::vector<int> host_vectors,
                                      std::vector<int> first_client_vectors);
  IvshmemServer(IvshmemServer&&) noexcept = default;
  IvshmemServer& operator=(IvshmemServer&&) noexcept = default;
  ~IvshmemServer();

  const std::string& socket_path() const { return path_; }
  int listen_fd() const { return listen_.get(); }
  // Accepts one pending client and sends it the setup sequence. Value: the client's socket fd
  // (poll it; readable = the client went away: call disconnect()).
  Result<int> accept_client();
  // Drops a client and tells the others.
  void disconnect(int client_fd);
  std::size_t client_count() const { return clients_.size(); }

 private:
  struct Client {
    std::int64_t id;
    UniqueFd socket;
    std::vector<UniqueFd> owned_vectors;  // eventfds we created for it
    std::vector<int> vectors;             // its vector fds (owned or borrowed)
  };
  IvshmemServer() = default;

  std::string path_;
  UniqueFd listen_;
  int shm_fd_ = -1;
  std::vector<int> host_vectors_;
  std::vector<int> first_vectors_;
  bool first_used_ = false;
  std::int64_t next_id_ = 1;
  std::map<int, Client> clients_;  // by socket fd
};

// Sends one protocol message (helper, also used by tests acting as a server).
Result<void> ivshmem_send(int socket, std::int64_t value, int fd = -1);

}  // namespace vitrine::hv
