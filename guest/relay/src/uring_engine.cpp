#include "vitrine/relay/uring_engine.hpp"

#include <poll.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace vitrine::relay {

Result<std::unique_ptr<UringEngine>> UringEngine::create(unsigned entries) {
  std::unique_ptr<UringEngine> e(new UringEngine());
  // COOP_TASKRUN: completions of receives that had to wait are not pushed into this thread with
  // an interrupt; they run when the loop enters the kernel anyway (every run() does), which is
  // cheaper on a busy loop. TASKRUN_FLAG tells liburing when such work is pending. Kernels
  // before 5.19 refuse the flags: fall back to the default mode.
  int r = io_uring_queue_init(entries, &e->ring_, IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG);
  if (r == -EINVAL) r = io_uring_queue_init(entries, &e->ring_, 0);
  if (r < 0) return std::unexpected(rdpmux::Error::sys("io_uring_queue_init", -r));
  e->initialized_ = true;
  return e;
}

UringEngine::~UringEngine() {
  if (!initialized_) return;
  if (registered_) io_uring_unregister_buffers(&ring_);
  io_uring_queue_exit(&ring_);
}

bool UringEngine::register_memory(std::byte* base, std::size_t size) {
  iovec iov{base, size};
  const int r = io_uring_register_buffers(&ring_, &iov, 1);
  if (r < 0) {
    register_error_ = std::string("io_uring_register_buffers: ") + std::strerror(-r);
    registered_ = false;
    return false;
  }
  base_ = base;
  size_ = size;
  registered_ = true;
  return true;
}

io_uring_sqe* UringEngine::sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  if (s) return s;
  // The submission queue is full: hand what is queued to the kernel and take a fresh slot.
  io_uring_submit(&ring_);
  s = io_uring_get_sqe(&ring_);
  if (!s) __builtin_trap();  // cannot happen right after a submit of a full queue
  return s;
}

void UringEngine::connect(int fd, const sockaddr* address, socklen_t length, std::uint64_t token) {
  io_uring_sqe* s = sqe();
  io_uring_prep_connect(s, fd, address, length);
  io_uring_sqe_set_data64(s, token);
}

void UringEngine::recv(int fd, std::byte* into, std::uint32_t length, std::uint64_t token) {
  io_uring_sqe* s = sqe();
  if (registered_ && into >= base_ && into + length <= base_ + size_) {
    // READ_FIXED on a stream socket is a recv into registered memory (offset unused: 0).
    io_uring_prep_read_fixed(s, fd, into, length, 0, 0);
  } else {
    io_uring_prep_recv(s, fd, into, length, 0);
  }
  io_uring_sqe_set_data64(s, token);
}

void UringEngine::sendmsg(int fd, const msghdr* message, std::uint64_t token) {
  io_uring_sqe* s = sqe();
  io_uring_prep_sendmsg(s, fd, message, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(s, token);
}

void UringEngine::poll_readable(int fd, std::uint64_t token) {
  io_uring_sqe* s = sqe();
  io_uring_prep_poll_add(s, fd, POLLIN);
  io_uring_sqe_set_data64(s, token);
}

void UringEngine::cancel_fd(int fd, std::uint64_t token) {
  io_uring_sqe* s = sqe();
  io_uring_prep_cancel_fd(s, fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(s, token);
}

Result<void> UringEngine::run(bool wait, std::chrono::nanoseconds max_wait, std::vector<IoCompletion>& out) {
  int r;
  if (wait) {
    __kernel_timespec ts{max_wait.count() / 1'000'000'000, max_wait.count() % 1'000'000'000};
    io_uring_cqe* cqe = nullptr;
    r = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    if (r == -ETIME || r == -EINTR) r = 0;
  } else {
    // Enters the kernel even with nothing to submit, so that pending completions are reaped.
    r = io_uring_submit_and_get_events(&ring_);
  }
  if (r < 0 && r != -EBUSY && r != -EAGAIN) return std::unexpected(rdpmux::Error::sys("io_uring_submit", -r));
  unsigned head;
  unsigned n = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    out.push_back(IoCompletion{io_uring_cqe_get_data64(cqe), cqe->res});
    ++n;
  }
  io_uring_cq_advance(&ring_, n);
  return {};
}

}  // namespace vitrine::relay
