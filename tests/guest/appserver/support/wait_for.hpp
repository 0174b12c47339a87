// Polls `done` until it holds or `timeout` passes (one last look at the end): the appserver
// tests wait for other processes (X clients, the appserver, the relay) this way.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace vitrine::appserver::testing {

inline bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                     std::chrono::milliseconds period = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(period);
  }
  return done();
}

}  // namespace vitrine::appserver::testing
