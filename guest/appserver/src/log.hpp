// The appserver logs through base (vitrine/base/log.hpp: "vitrine-appserver <level>: ..." on
// stderr, one write() per line; debug lines with --verbose). What stays here is FreeRDP's own
// log (WLog), which base does not know.
#pragma once

namespace vitrine::appserver {

// Program name and level for base's log: debug lines only when `verbose`.
void configure_log(bool verbose);

// FreeRDP's own log (WLog) to stderr as well, at WARN (INFO with `verbose`). WLog's console
// default writes TRACE..INFO to *stdout*, a line or more per connection; stdout is the
// appserver's machine-readable channel (the "listening on" line), often a pipe that its
// starter reads once, and a full pipe would block the whole server after some dozens of
// connections (found by appserver_soak_test). WLOG_APPENDER / WLOG_LEVEL in the environment
// still win.
void configure_freerdp_log(bool verbose);

}  // namespace vitrine::appserver
