// spdlog setup for the command: stderr, "info" by default, "debug" with --verbose; plugs spdlog
// in as the sink of the project log (vitrine/base/log.hpp), so every room's lines come out here.
#pragma once

#include <cstdint>

namespace vitrine::cli {

void setup_logging(bool verbose);

// A progress line for steps that take over a second ("starting guest... done in 1.2 s").
class ProgressStep {
 public:
  explicit ProgressStep(const char* what);
  ~ProgressStep();
  void done();
  ProgressStep(const ProgressStep&) = delete;
  ProgressStep& operator=(const ProgressStep&) = delete;

 private:
  const char* what_;
  std::uint64_t start_ns_;
  bool finished_ = false;
};

}  // namespace vitrine::cli
