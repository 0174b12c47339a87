// The xterm typing workload: one key typed into a real xterm in a private Xvfb, then what the
// appserver does for it (pump X events, grab the damaged pixels, encode planar). Used by the
// benchmark and, under callgrind, for the instruction count per frame in docs/appserver.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace vitrine::appserver::bench {

class TypingWorkload {
 public:
  // Empty when Xvfb or xterm is missing.
  static std::unique_ptr<TypingWorkload> start(std::string* why);
  ~TypingWorkload();
  // Types one character and processes the resulting frame. Returns the encoded bytes.
  size_t frame();

 private:
  struct Impl;
  explicit TypingWorkload(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The function callgrind counts (--toggle-collect=*typing_frame*): non-inlined on purpose.
size_t typing_frame(TypingWorkload& w);

}  // namespace vitrine::appserver::bench
