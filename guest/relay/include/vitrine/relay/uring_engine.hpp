// UringEngine: IoEngine on Linux io_uring (liburing 2.3). Receives go straight into the given
// memory (the claimed ring span); with register_memory() the whole bus mapping is one fixed
// buffer (IORING_OP_READ_FIXED on the socket), so the kernel skips pinning pages on every
// receive. A mapping the kernel refuses to register (a PCI BAR, RLIMIT_MEMLOCK) falls back to
// IORING_OP_RECV into the same memory.
#pragma once

#include <liburing.h>

#include <memory>

#include "vitrine/relay/io_engine.hpp"

namespace vitrine::relay {

class UringEngine final : public IoEngine {
 public:
  static Result<std::unique_ptr<UringEngine>> create(unsigned entries = 256);
  ~UringEngine() override;
  UringEngine(const UringEngine&) = delete;
  UringEngine& operator=(const UringEngine&) = delete;

  bool register_memory(std::byte* base, std::size_t size) override;
  bool memory_registered() const override { return registered_; }
  void connect(int fd, const sockaddr* address, socklen_t length, std::uint64_t token) override;
  void recv(int fd, std::byte* into, std::uint32_t length, std::uint64_t token) override;
  void sendmsg(int fd, const msghdr* message, std::uint64_t token) override;
  void poll_readable(int fd, std::uint64_t token) override;
  void cancel_fd(int fd, std::uint64_t token) override;
  Result<void> run(bool wait, std::chrono::nanoseconds max_wait, std::vector<IoCompletion>& out) override;

  // Why registration failed (empty if it worked or was not tried).
  const std::string& register_error() const { return register_error_; }

 private:
  UringEngine() = default;
  io_uring_sqe* sqe();

  io_uring ring_{};
  bool initialized_ = false;
  bool registered_ = false;
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
  std::string register_error_;
};

}  // namespace vitrine::relay
