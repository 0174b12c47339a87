// `vitrine-guest catalog`: a diagnostic for guest images. It prints what this guest's agent
// publishes (the same scanners vitrine-guest runs) and, with --watch, prints it again on every
// change until SIGINT/SIGTERM. It touches no bus.
#pragma once

#include <span>

namespace vitrine::relay {

// `args`: what follows "catalog" on the command line. Value: the process's exit code (0 done,
// 1 failure, 2 bad command line, 130 stopped by SIGINT/SIGTERM while watching).
int run_catalog_command(std::span<char* const> args);

}  // namespace vitrine::relay
