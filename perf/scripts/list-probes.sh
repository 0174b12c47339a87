#!/usr/bin/env bash
# Lists the USDT probes (provider "vitrine") compiled into Vitrine binaries.
# Usage: perf/scripts/list-probes.sh [BINARY...]   (default: every program in build/release/bin)
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,3p' "$0" | sed 's/^# //'
  echo "Attach one with: perf probe -x BINARY sdt_vitrine:ring_commit; perf record -e sdt_vitrine:ring_commit -p PID"
  exit 0
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
bins=("$@")
[ ${#bins[@]} -gt 0 ] || mapfile -t bins < <(find "$root/build/release/bin" -maxdepth 1 -type f -perm -u+x 2>/dev/null | sort)
[ ${#bins[@]} -gt 0 ] || { echo "no binaries: build the release preset first (cmake --build --preset release)" >&2; exit 1; }
command -v readelf >/dev/null || { echo "readelf not found: install binutils" >&2; exit 1; }
for b in "${bins[@]}"; do
  probes=$(readelf --notes "$b" 2>/dev/null | awk '/Provider: vitrine/{getline; sub(/^ *Name: /,""); print}' | sort | uniq -c |
           awk '{printf "%s(%d) ", $2, $1}')
  [ -n "$probes" ] && printf '%-28s %s\n' "$(basename "$b")" "$probes"
done
exit 0
