#!/usr/bin/env bash
# The perf/ scripts work on the built tree: list the probes of a built test binary, record it
# with call graphs, report per stage, and write speedscope and SVG flame graphs.
# Exit 77 (ctest: skipped) with the reason where perf cannot record on this machine.
set -euo pipefail
root=$1; bin=$2
scripts=$root/perf/scripts
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for s in list-probes.sh record.sh report.py flamegraph.py; do "$scripts/$s" --help >/dev/null; done
"$scripts/list-probes.sh" "$bin" > "$tmp/probes.txt"
grep -q ring_commit "$tmp/probes.txt"
command -v perf >/dev/null || { echo "SKIP: perf not installed (linux-perf)"; exit 77; }
if ! perf record -o "$tmp/probe.data" -e cpu-clock -- true >/dev/null 2>&1; then
  echo "SKIP: perf cannot record here (perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid))"; exit 77
fi
# The workload's own result does not matter here (a test of it failing under load on a busy
# machine must not fail this one); a recording that did not happen fails the steps below.
"$scripts/record.sh" -o "$tmp/run.data" -- "$bin" --gtest_brief=1 >/dev/null 2>&1 || echo "note: the recorded workload exited $?"
test -s "$tmp/run.data"
# To a file, then grep: `report.py | grep -q` under pipefail failed whenever grep quit at its
# first match while report.py still wrote (SIGPIPE), about 1 run in 3 with a busy CPU.
"$scripts/report.py" "$tmp/run.data" --top 3 > "$tmp/report.txt"
grep -q '%' "$tmp/report.txt"
"$scripts/flamegraph.py" "$tmp/run.data" -o "$tmp/fg.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['profiles'][0]['samples']" "$tmp/fg.json"
"$scripts/flamegraph.py" "$tmp/run.data" --format svg -o "$tmp/fg.svg"
grep -q '<svg' "$tmp/fg.svg"
echo "perf scripts OK"
