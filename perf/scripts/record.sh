#!/usr/bin/env bash
# Records a running Vitrine scenario with call graphs (frame pointers are kept in every preset).
# Usage: perf/scripts/record.sh [-o OUT.data] [-F HZ] [--probes] [-p PID | -- COMMAND ARGS...]
#   -o   output file (default perf.data)       -F  sampling frequency (default 999 Hz)
#   -p   attach to a running process (e.g. $(pgrep -f vitrine-guest)) until Ctrl-C
#   --probes  also record every vitrine USDT probe of the command's binary (perf probe -x)
# Then: perf/scripts/report.py OUT.data  and  perf/scripts/flamegraph.py OUT.data
set -euo pipefail
out=perf.data; freq=999; pid=""; probes=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -o) out=$2; shift 2 ;;
    -F) freq=$2; shift 2 ;;
    -p) pid=$2; shift 2 ;;
    --probes) probes=1; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
command -v perf >/dev/null || { echo "perf not found: install linux-perf" >&2; exit 1; }
# Hardware counters are often missing in VMs: the cpu-clock software event always works.
events=(-e cpu-clock)
if [ -n "$pid" ]; then
  exec perf record -F "$freq" -g --call-graph fp "${events[@]}" -o "$out" -p "$pid"
fi
[ $# -gt 0 ] || { echo "nothing to record: give -p PID or -- COMMAND" >&2; exit 2; }
bin=$(command -v "$1" || true)
if [ "$probes" = 1 ] && [ -n "$bin" ] && readelf --notes "$bin" 2>/dev/null | grep "Provider: vitrine" >/dev/null; then
  for p in $(readelf --notes "$bin" | awk '/Provider: vitrine/{getline; print $2}' | sort -u); do
    perf probe -q -x "$bin" "sdt_vitrine:$p" 2>/dev/null && events+=(-e "sdt_vitrine:$p") || true
  done
fi
exec perf record -F "$freq" -g --call-graph fp "${events[@]}" -o "$out" -- "$@"
