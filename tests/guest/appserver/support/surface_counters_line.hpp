// vitrine-appserver's surface counters as it logs them (SurfacePublisher::log_stats, at session
// end and on SIGUSR1): "surfaces: S surfaces (C created), N presents, P bytes presented, R bytes
// written into the pool by the X server, U bytes copied in user space, zero-copy B, ...".
// Tests and benchmarks read the guest's copies per pixel byte from it.
#pragma once

#include <exception>
#include <optional>
#include <string>

namespace vitrine::appserver::testing {

// The text every counters line carries (to find the lines in a log).
inline constexpr const char* kSurfaceCountersNeedle = " bytes written into the pool";

struct SurfaceCountersLine {
  double presents = 0;
  double bytes_presented = 0;  // damaged bytes named in Presents
  double bytes_written = 0;    // by the X server into the pool (whole rows of the damage)
  double bytes_copied = 0;     // by the appserver in user space (the fallback's copy)
};

// The number just before `what` in `line`, or -1.
inline double number_before(const std::string& line, const std::string& what) {
  const auto at = line.find(what);
  if (at == std::string::npos || at == 0) return -1;
  const auto space = line.rfind(' ', at - 1);  // the number sits between this and `at`
  if (space == std::string::npos) return -1;
  try {
    return std::stod(line.substr(space + 1, at - space - 1));
  } catch (const std::exception&) {
    return -1;
  }
}

inline std::optional<SurfaceCountersLine> parse_surface_counters(const std::string& line) {
  if (line.find("surfaces: ") == std::string::npos || line.find(kSurfaceCountersNeedle) == std::string::npos)
    return std::nullopt;
  SurfaceCountersLine c{number_before(line, " presents,"), number_before(line, " bytes presented"),
                        number_before(line, kSurfaceCountersNeedle), number_before(line, " bytes copied in user space")};
  if (c.presents < 0 || c.bytes_presented < 0 || c.bytes_written < 0 || c.bytes_copied < 0) return std::nullopt;
  return c;
}

}  // namespace vitrine::appserver::testing
