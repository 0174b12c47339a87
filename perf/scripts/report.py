#!/usr/bin/env python3
"""Top symbols of a perf recording, grouped by Vitrine stage.

Usage: perf/scripts/report.py [perf.data] [--top N]

A symbol's stage comes from the room its namespace or library names: bus (ringbus), RDP
transport (rdpmux), guest relay (io_uring), compositor/GL, appserver/X11, FreeRDP codecs,
kernel, other.
"""
import argparse
import collections
import re
import signal
import subprocess
import sys

# A reader that stops early (`| head`, `| grep -q`) ends the report quietly, as any Unix filter
# does, instead of a BrokenPipeError traceback and exit status 1.
signal.signal(signal.SIGPIPE, signal.SIG_DFL)

STAGES = [
    ("bus (ringbus)", re.compile(r"ringbus")),
    ("rdp transport (rdpmux)", re.compile(r"rdpmux")),
    ("guest relay", re.compile(r"relay|uring")),
    ("compositor / GL", re.compile(r"compositor|\bgl[A-Z]|llvmpipe|lp_")),
    ("appserver / X11", re.compile(r"appserver|X11|xcb_")),
    ("FreeRDP codecs", re.compile(r"freerdp|rdp_|gdi_|planar|nsc_|rfx_|interleaved")),
    ("kernel", re.compile(r"\[k\]")),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default="perf.data")
    ap.add_argument("--top", type=int, default=15, help="symbols shown per stage")
    args = ap.parse_args()
    try:
        out = subprocess.run(["perf", "report", "-i", args.data, "--no-children", "--sort", "dso,symbol",
                              "--stdio", "-q", "--percent-limit", "0.1"],
                             check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit("perf not found: install linux-perf")
    except subprocess.CalledProcessError as e:
        sys.exit(f"perf report failed on {args.data}: {e.stderr.strip()} (record with perf/scripts/record.sh)")
    totals = collections.Counter()
    rows = collections.defaultdict(list)
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(.*)", line)
        if not m:
            continue
        pct = float(m.group(1))
        sym = re.sub(r"\s+", " ", re.sub(r"(\s+-)+\s*$", "", m.group(2))).strip()
        stage = next((name for name, rx in STAGES if rx.search(sym)), "other")
        totals[stage] += pct
        rows[stage].append((pct, sym))
    if not totals:
        sys.exit(f"no samples in {args.data}")
    for stage, total in totals.most_common():
        print(f"{stage:<28} {total:6.2f}%")
        for pct, sym in sorted(rows[stage], reverse=True)[: args.top]:
            print(f"    {pct:6.2f}%  {sym}")


if __name__ == "__main__":
    main()
