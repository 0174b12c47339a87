// IoEngine: the asynchronous I/O the relay needs, behind a small interface so that the relay's
// logic (relay.cpp) has no io_uring in it and a Windows port (IOCP) can supply its own engine.
//
// Contract: operations are queued (nothing happens until run()); each completes exactly once
// with its token and a result (>= 0 bytes / 0 for connect, or -errno), also when cancelled
// (-ECANCELED). Buffers, sockaddrs and msghdrs passed in must stay valid until completion.
// Single-threaded: one thread queues and runs.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vitrine/rdpmux/error.hpp"

namespace vitrine::relay {

using rdpmux::Result;

struct IoCompletion {
  std::uint64_t token = 0;
  std::int32_t result = 0;  // bytes, 0, or -errno
};

class IoEngine {
 public:
  virtual ~IoEngine() = default;
  // Offers [base, base + size) (the bus) for pre-registered I/O. Value: whether the engine will
  // receive into / send from it without per-operation page pinning.
  virtual bool register_memory(std::byte* base, std::size_t size) = 0;
  virtual bool memory_registered() const = 0;

  virtual void connect(int fd, const sockaddr* address, socklen_t length, std::uint64_t token) = 0;
  // Receives at most `length` bytes of the stream socket `fd` into `into`.
  virtual void recv(int fd, std::byte* into, std::uint32_t length, std::uint64_t token) = 0;
  // Sends the iovecs of `message` (MSG_NOSIGNAL).
  virtual void sendmsg(int fd, const msghdr* message, std::uint64_t token) = 0;
  // Completes once `fd` is readable (result: the poll mask). For non-blocking fds such as the
  // eventfd doorbell or a signalfd, which the caller then drains itself.
  virtual void poll_readable(int fd, std::uint64_t token) = 0;
  // Cancels every queued or running operation on `fd` (each completes with -ECANCELED or its
  // own result); this operation completes too.
  virtual void cancel_fd(int fd, std::uint64_t token) = 0;

  // Submits what was queued; if `wait`, waits up to `max_wait` for one completion (no timeout
  // operation needed: the wait itself is bounded). Appends every available completion to `out`.
  virtual Result<void> run(bool wait, std::chrono::nanoseconds max_wait, std::vector<IoCompletion>& out) = 0;
};

}  // namespace vitrine::relay
