// Compatibility names for the project log, which lives in base (vitrine/base/log.hpp). New code
// calls base::log_warn(...) and friends; these names stay while rdpmux, guest/catalog, the
// ring's slow paths (ring.cpp) and the fuzzers still spell ringbus::log (issue 16: they move to
// base next, then this header goes).
#pragma once

#include "vitrine/base/log.hpp"

namespace vitrine::ringbus {

using LogLevel = base::LogLevel;
using LogSink = base::LogSink;

// The same functions, not forwarders: a call log(LogLevel::kWarn, ...) inside ringbus also finds
// base::log by argument-dependent lookup, and two distinct functions would be ambiguous.
using base::log;
using base::set_log_sink;

}  // namespace vitrine::ringbus
