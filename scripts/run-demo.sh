#!/usr/bin/env bash
# The README's main job: installs dependencies, builds the release preset and runs the main
# program. Today that is the bus benchmark with its same-run ratio summary; once `vitrine demo`
# exists (cli/), this runs the demo on the built-in sandbox guest instead.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"
if [ -x build/release/bin/vitrine ] && build/release/bin/vitrine demo --help >/dev/null 2>&1; then
  exec build/release/bin/vitrine demo "$@"
fi
echo "Running the bus benchmark (ring vs memcpy, pipe, Unix socket, TCP; results: build/release/bench_ringbus.json)"
exec build/release/bin/bench_ringbus --benchmark_min_time=0.2 \
  --benchmark_out=build/release/bench_ringbus.json --benchmark_out_format=json "$@"
