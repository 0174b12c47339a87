// FocusPolicy: the guest may move host keyboard focus only in answer to host input. A RAIL
// activation (or a new window) takes focus only when the user pressed a key or a mouse button
// in one of this VM's windows (input the InputForwarder forwarded) within `grace` before;
// otherwise the window only asks for attention (urgency hint) and the refusal is counted.
// Why: a guest that could focus its windows at will could take keystrokes meant for the host
// (a password typed into a host dialog lands in a fake guest one).
//
// Threads: note_input() and may_focus() on the UI thread; the counters from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace vitrine::viewer {

class FocusPolicy {
 public:
  explicit FocusPolicy(std::chrono::nanoseconds grace) : grace_ns_(grace.count()) {}

  // A key or button press was forwarded to the guest at `now_ns` (base::monotonic_ns()).
  void note_input(std::uint64_t now_ns) { last_input_ns_ = now_ns; }
  // May the guest focus a window now? Counts the answer (activations only: `count`).
  bool may_focus(std::uint64_t now_ns, bool count);

  std::uint64_t allowed() const { return allowed_.load(std::memory_order_relaxed); }
  std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  std::int64_t grace_ns_;
  std::uint64_t last_input_ns_ = 0;  // 0: never
  // Counters only (stats() reads them from any thread): relaxed.
  std::atomic<std::uint64_t> allowed_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace vitrine::viewer
