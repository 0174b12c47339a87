// Exit codes of the `vitrine` command (documented in docs/cli.md and in `vitrine --help`).
#pragma once

namespace vitrine::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;       // the operation failed; the message says why
inline constexpr int kExitUsage = 2;         // bad command line
inline constexpr int kExitNoInstance = 3;    // no running instance answers on the launcher socket
inline constexpr int kExitUnknownApp = 4;    // the application is not published by the guest
inline constexpr int kExitInterrupted = 130; // stopped by SIGINT/SIGTERM after a clean shutdown

inline constexpr const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0    success\n"
    "  1    the operation failed (the message says what to do)\n"
    "  2    bad command line\n"
    "  3    no running Vitrine instance (start one with `vitrine run` or `vitrine demo`)\n"
    "  4    unknown application (the message lists the published ones)\n"
    "  130  interrupted (Ctrl-C); everything started was stopped\n";

}  // namespace vitrine::cli
