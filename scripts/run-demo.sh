#!/usr/bin/env bash
# The README's main job: installs dependencies, builds the release preset and runs `vitrine demo`:
# the built-in sandbox guest (Xvfb + vitrine-appserver + vitrine-guest) whose xterm and xclock
# open as host windows on $DISPLAY. Without a display it runs headless for 30 s and writes a PNG
# of every window (and windows.json) to build/release/demo-screenshots. Extra arguments go to
# `vitrine demo` (see `build/release/bin/vitrine demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"
vitrine=build/release/bin/vitrine
if [ $# -eq 0 ] && [ -z "${DISPLAY:-}" ]; then
  set -- --headless --duration 30 --screenshot-dir build/release/demo-screenshots
  echo "No \$DISPLAY: running the demo headless for 30 s; window screenshots go to build/release/demo-screenshots"
fi
status=0
"$vitrine" demo "$@" || status=$?
if [ -f build/release/demo-screenshots/windows.json ] && [ $# -gt 0 ]; then
  echo "Windows the host showed (build/release/demo-screenshots):"
  cat build/release/demo-screenshots/windows.json
fi
# 130: stopped with Ctrl-C after a clean shutdown.
[ "$status" -eq 0 ] || [ "$status" -eq 130 ] || exit "$status"
