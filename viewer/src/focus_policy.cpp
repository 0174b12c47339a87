#include "focus_policy.hpp"

namespace vitrine::viewer {

bool FocusPolicy::may_focus(std::uint64_t now_ns, bool count) {
  const bool recent = last_input_ns_ != 0 && now_ns >= last_input_ns_ &&
                      static_cast<std::int64_t>(now_ns - last_input_ns_) <= grace_ns_;
  if (count) (recent ? allowed_ : refused_).fetch_add(1, std::memory_order_relaxed);
  return recent;
}

}  // namespace vitrine::viewer
