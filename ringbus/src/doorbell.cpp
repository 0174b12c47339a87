#include "vitrine/ringbus/doorbell.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>

#include <cerrno>
#include <cstdint>

namespace vitrine::ringbus {

Result<EventfdDoorbell> EventfdDoorbell::create() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return std::unexpected(Error::sys("eventfd", errno));
  return EventfdDoorbell(UniqueFd(fd));
}

void EventfdDoorbell::ring() {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is saturated: the waiter is already woken. Nothing else can fail
  // on a valid eventfd, and a doorbell must never block or throw.
  [[maybe_unused]] const auto n = ::write(fd_.get(), &one, sizeof one);
}

void EventfdDoorbell::drain() {
  std::uint64_t value = 0;
  [[maybe_unused]] const auto n = ::read(fd_.get(), &value, sizeof value);
}

Result<WakeStatus> EventfdDoorbell::wait(std::chrono::nanoseconds timeout) {
  pollfd pfd{fd_.get(), POLLIN, 0};
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout != std::chrono::nanoseconds::max()) {
    const auto ns = std::max<std::int64_t>(timeout.count(), 0);
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  for (;;) {
    const int n = ::ppoll(&pfd, 1, tsp, nullptr);
    if (n > 0) {
      drain();
      return WakeStatus::kWoken;
    }
    if (n == 0) return WakeStatus::kTimedOut;
    // EINTR: a signal is a spurious wake-up; the caller re-checks its condition.
    if (errno == EINTR) return WakeStatus::kWoken;
    return std::unexpected(Error::sys("ppoll on doorbell eventfd", errno));
  }
}

Result<WakeStatus> PollingDoorbell::wait(std::chrono::nanoseconds timeout) {
  const auto step = std::min(step_, timeout);
  timespec ts{static_cast<time_t>(step.count() / 1'000'000'000),
              static_cast<long>(step.count() % 1'000'000'000)};
  ::nanosleep(&ts, nullptr);
  step_ = std::min(step_ * 2, max_step_);
  return step < timeout ? WakeStatus::kWoken : WakeStatus::kTimedOut;
}

}  // namespace vitrine::ringbus
