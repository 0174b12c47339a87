#!/usr/bin/env bash
# The README's test command: installs dependencies, builds the release preset and runs every
# ctest test (output shown for failures). Extra arguments go to ctest (e.g. -L ringbus).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"
exec ctest --preset release -j"$(nproc)" "$@"
