// The copy counters every surface benchmark reports (bench/report.py's "Surfaces, counted"
// table), from the host's counters over the run and the appserver's own counters line.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <optional>

#include "support/surface_counters_line.hpp"
#include "surface_host.hpp"

namespace vitrine::bench {

//   host_copies_per_byte        bytes handed to glTexSubImage2D / bytes presented
//   presented_per_painted       bytes presented / damaged bytes the client painted (< 1: the
//                               appserver folded paints into fewer Presents)
//   presents_per_iter
//   guest_zero_copy             1: the guest's X server writes the pool itself, 0: the
//                               appserver's counted copy, -1: no line
//   guest_copies_per_byte       (bytes the X server wrote + bytes copied in user space) / bytes
//                               presented (>= 1: ShmGetImage reads whole rows); -1: not counted
//   guest_user_copies_per_byte  bytes copied in user space / bytes presented
inline void report_surface_counters(benchmark::State& state, const SurfaceHostCounters& before,
                                    const SurfaceHostCounters& after, double painted_bytes,
                                    std::optional<bool> zero_copy,
                                    const std::optional<appserver::testing::SurfaceCountersLine>& guest) {
  const double presented = double(after.receiver.bytes_presented - before.receiver.bytes_presented);
  const double uploaded = double(after.compositor.surface_bytes_uploaded - before.compositor.surface_bytes_uploaded);
  const double iterations = std::max<double>(1, double(state.iterations()));
  state.counters["host_copies_per_byte"] = presented > 0 ? uploaded / presented : 0;
  state.counters["presented_per_painted"] = painted_bytes > 0 ? presented / painted_bytes : 0;
  state.counters["presents_per_iter"] = double(after.receiver.presents - before.receiver.presents) / iterations;
  state.counters["guest_zero_copy"] = zero_copy ? (*zero_copy ? 1 : 0) : -1;
  const bool counted = guest && guest->bytes_presented > 0;
  state.counters["guest_copies_per_byte"] =
      counted ? (guest->bytes_written + guest->bytes_copied) / guest->bytes_presented : -1;
  state.counters["guest_user_copies_per_byte"] = counted ? guest->bytes_copied / guest->bytes_presented : -1;
}

}  // namespace vitrine::bench
