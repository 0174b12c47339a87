#!/usr/bin/env python3
"""The end-to-end benchmark report: runs every bench_* program of a build tree and writes one
Markdown table of the same-run ratios each program reports, plus an SVG bar chart.

Usage: bench/report.py [--build build/release] [--out build/release/report] [--quick]
                       [--filter REGEX] [--programs bench_ringbus,bench_relay,...]

  --quick   run each benchmark for a short minimum time (CI); numbers are noisier
Outputs: OUT/report.md, OUT/ratios.svg, and each program's JSON (OUT/<program>.json and
OUT/<program>.json.ratios.json). Only ratios measured within one program run are reported:
absolute times on a shared 2-core machine are not comparable between runs.

The report opens with the headlines: RDP over the bus vs RDP over the guest network path for
update throughput, input-to-paint round trip and connect time, two pairs from bench_e2e:
  sandbox   in-process relay vs a veth pair into a network namespace (needs root, else listed as
            skipped with the reason)
  QEMU TCG  the server inside a QEMU TCG guest: ivshmem bus + vitrine-guest vs virtio-net user
            networking with a hostfwd. Takes minutes (TCG): --quick leaves it out
            (VITRINE_E2E_QEMU=0) and the table says "not run (quick mode)".
then window pixels as bus surfaces (bench_e2e's surface cases: the real vitrine-appserver on a
guest Xvfb, the host's SurfaceReceiver + compositor) vs RDP over veth and over the bus, with
issue 15's targets and the copies per pixel byte that those benchmarks count, and the
compositor's upload bytes per damaged byte (bench_compositor's uploaded_per_damaged_byte counters).
"""
import argparse
import glob
import html
import json
import math
import os
import subprocess
import sys


def run_program(path, out_dir, min_time, bench_filter, quick=False):
    name = os.path.basename(path)
    out_json = os.path.join(out_dir, name + ".json")
    cmd = [path, f"--benchmark_min_time={min_time}", f"--benchmark_out={out_json}",
           "--benchmark_out_format=json"]
    if bench_filter:
        cmd.append(f"--benchmark_filter={bench_filter}")
    print(f"running {name} ...", flush=True)
    env = dict(os.environ)
    if quick:
        env["VITRINE_E2E_QEMU"] = "0"  # bench_e2e's QEMU TCG cases take minutes
        env["VITRINE_HOSTILE_SECONDS"] = "1"  # bench_hostile: 1 s per attack instead of 3
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"  {name} exited with {proc.returncode}: {proc.stderr.strip()[-400:]}", file=sys.stderr)
    ratios = []
    rpath = out_json + ".ratios.json"
    if os.path.exists(rpath):
        with open(rpath) as f:
            ratios = json.load(f)
    errors = []
    if os.path.exists(out_json):
        try:
            with open(out_json) as f:
                for b in json.load(f).get("benchmarks", []):
                    if b.get("error_occurred"):
                        errors.append(f'{b["name"]}: {b.get("error_message", "error")}')
        except json.JSONDecodeError:
            errors.append("unreadable JSON output")
    return name, proc.returncode, ratios, errors


HEADLINE_PROGRAM = "bench_e2e"
# bench_e2e's surface ratios (surface_cases.cpp) carry this word in their labels; their
# benchmarks' counters that the headline shows (copies per pixel byte, Present folding).
SURFACE_MARK = "surfaces"
SURFACE_COUNTERS = ["host_copies_per_byte", "guest_zero_copy", "guest_copies_per_byte", "presented_per_painted"]
# bench_e2e's QEMU TCG ratios: label prefix, and the measures the table lists even when they did
# not run (quick mode, or the VM could not start).
QEMU_PREFIX = "QEMU TCG:"
# bench_e2e's launch ratio (launch_cases.cpp): click-to-window against the app's own start.
LAUNCH_PREFIX = "click-to-window"
QEMU_MEASURES = ["update throughput, ivshmem bus vs virtio-net",
                 "input-to-paint p50, virtio-net / bus (x faster over the bus)",
                 "input-to-paint p99, virtio-net / bus (x faster over the bus)",
                 "connect time, ivshmem bus vs virtio-net (x faster)"]


def headline_section(out_dir, rows, quick=False):
    """Markdown lines for the headline table: the e2e ratios, then compositor upload efficiency."""
    md = ["## Headlines", "",
          "RDP over Vitrine's bus vs RDP over the guest network path, same server, same client, "
          "same run (higher = better over the bus). Two pairs: **sandbox** (the in-process relay "
          "vs a veth pair into a network namespace, the sandbox's analogue of RDP to a VM over its "
          "virtual NIC) and **QEMU TCG** (the server inside a QEMU TCG guest: ivshmem bus + "
          "vitrine-guest vs virtio-net user networking with a hostfwd). Then **surfaces** (window "
          "pixels through the bus's surface pool: a real X client on a guest Xvfb, the real "
          "vitrine-appserver, the host's SurfaceReceiver + compositor) vs those RDP paths, with "
          "issue 15's targets.", "",
          "| pair | measure | ratio |", "|---|---|---:|"]
    e2e = [r for r in rows if r["program"] == HEADLINE_PROGRAM]
    surfaces = [r for r in e2e if SURFACE_MARK in r["label"] and not r["label"].startswith(QEMU_PREFIX)]
    launch = [r for r in e2e if r["label"].startswith(LAUNCH_PREFIX)]
    sandbox = [r for r in e2e if not r["label"].startswith(QEMU_PREFIX) and r not in surfaces and r not in launch]
    qemu = {r["label"][len(QEMU_PREFIX):].strip(): r for r in e2e if r["label"].startswith(QEMU_PREFIX)}
    for r in sandbox:
        md.append(f'| sandbox: relay vs veth | {r["label"]} | {r["ratio"]:.2f}x |')
    if not sandbox:
        md.append("| sandbox: relay vs veth | (bench_e2e did not report: not built, filtered out, or skipped below) | |")
    for measure in QEMU_MEASURES:
        r = qemu.pop(measure, None)
        if r is not None:
            md.append(f'| QEMU TCG: ivshmem bus vs virtio-net | {measure} | {r["ratio"]:.2f}x |')
        elif quick:
            md.append(f"| QEMU TCG: ivshmem bus vs virtio-net | {measure} | not run (quick mode) |")
        else:
            md.append(f"| QEMU TCG: ivshmem bus vs virtio-net | {measure} | not reported (see skipped below) |")
    for measure, r in qemu.items():  # ratios beyond the list above: the QEMU surface cases
        pair = "QEMU TCG: surfaces over ivshmem" if SURFACE_MARK in measure else "QEMU TCG: ivshmem bus vs virtio-net"
        target = f' (target >= {r["target"]:.0f}x: {"met" if r["met"] else "missed"})' if r.get("target") else ""
        md.append(f'| {pair} | {measure} | {r["ratio"]:.2f}x{target} |')
    for r in surfaces:
        target = f' (target >= {r["target"]:.0f}x: {"met" if r["met"] else "missed"})' if r.get("target") else ""
        md.append(f'| sandbox: surfaces vs RDP | {r["label"]} | {r["ratio"]:.2f}x{target} |')
    for r in launch:
        md.append(f'| sandbox: launch vs the app alone | {r["label"]} | {r["ratio"]:.2f}x |')
    # Why a veth benchmark did not run (no root, no iproute2), from the program's JSON.
    path = os.path.join(out_dir, HEADLINE_PROGRAM + ".json")
    if os.path.exists(path):
        try:
            with open(path) as f:
                runs = json.load(f).get("benchmarks", [])
        except json.JSONDecodeError:
            runs = []
        absolute, copies = {}, []
        for b in runs:
            if b.get("error_occurred"):
                md.append(f'| {b["name"]}: skipped | {b.get("error_message", "")} |')
                continue
            if b.get("run_type", "iteration") != "iteration":
                continue
            absolute[b["name"]] = b
            if all(k in b for k in SURFACE_COUNTERS):
                copies.append(b)
        if absolute:
            md += ["", "Same run, absolute (this machine, this minute only):", "",
                   "| benchmark | time | MB/s | p50 us | p99 us |", "|---|---:|---:|---:|---:|"]
            def num(b, key, scale=1.0):
                return f"{b[key] * scale:.1f}" if key in b else "-"
            for name, b in absolute.items():
                md.append(f'| {name} | {b.get("real_time", 0):.1f} {b.get("time_unit", "")} | '
                          f'{num(b, "bytes_per_second", 1e-6)} | {num(b, "p50_us")} | {num(b, "p99_us")} |')
        if copies:
            md += ["", "Surfaces, counted (host: bytes handed to glTexSubImage2D per presented byte; guest: "
                   "bytes the X server wrote into the pool plus bytes the appserver copied, per presented byte, "
                   "from the appserver's own counters (>= 1: ShmGetImage reads whole rows); zero-copy 1 = the X "
                   "server writes the pool itself; presented / painted < 1: the appserver folded paints into "
                   "fewer Presents):", "",
                   "| benchmark | host copies / byte | guest copies / byte | guest user-space copies / byte | "
                   "guest zero-copy | presented / painted |",
                   "|---|---:|---:|---:|---:|---:|"]
            for b in copies:
                md.append(f'| {b["name"]} | {b["host_copies_per_byte"]:.2f} | {b["guest_copies_per_byte"]:.2f} | '
                          f'{b.get("guest_user_copies_per_byte", -1):.2f} | {b["guest_zero_copy"]:.0f} | '
                          f'{b["presented_per_painted"]:.2f} |')
    # Compositor: bytes uploaded per byte of damage (1.0 = exactly the damage; more = merging).
    comp = os.path.join(out_dir, "bench_compositor.json")
    upl = []
    if os.path.exists(comp):
        try:
            with open(comp) as f:
                for b in json.load(f).get("benchmarks", []):
                    if "uploaded_per_damaged_byte" in b and not b.get("error_occurred"):
                        upl.append((b["name"], b["uploaded_per_damaged_byte"]))
        except json.JSONDecodeError:
            pass
    md += ["", "Compositor upload bytes per damaged byte (1.00 = only the damage is uploaded):", ""]
    if upl:
        md += ["| benchmark | uploaded / damaged |", "|---|---:|"]
        md += [f"| {n} | {v:.2f} |" for n, v in upl]
    else:
        md.append("(bench_compositor did not report it: not built, filtered out, or no GL)")
    return md + [""]


def svg_chart(rows, width=900, bar=18):
    """Horizontal bars on a log scale: 1x in the middle, target marks where given."""
    rows = [r for r in rows if r["ratio"] > 0]
    if not rows:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    label_w, plot_w = 420, width - 420 - 70
    lo = min(0.01, min(r["ratio"] for r in rows))
    hi = max(100.0, max(r["ratio"] for r in rows))
    lmin, lmax = math.log10(lo), math.log10(hi)

    def x(v):
        return label_w + plot_w * (math.log10(max(v, lo)) - lmin) / (lmax - lmin)

    h = (len(rows) + 2) * bar
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" font-family="sans-serif" font-size="11">',
             f'<line x1="{x(1):.1f}" y1="0" x2="{x(1):.1f}" y2="{h}" stroke="#888" stroke-dasharray="3,3"/>',
             f'<text x="{x(1) + 3:.1f}" y="{h - 4}" fill="#555">1x</text>']
    for i, r in enumerate(rows):
        y = (i + 1) * bar
        met = r.get("met", True)
        color = "#4a90d9" if met else "#d9534f"
        parts.append(f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end">'
                     f'{html.escape(r["program"] + ": " + r["label"])}</text>')
        x0, x1 = sorted([x(1), x(r["ratio"])])
        parts.append(f'<rect x="{x0:.1f}" y="{y + 2}" width="{max(x1 - x0, 1):.1f}" height="{bar - 4}" fill="{color}"/>')
        parts.append(f'<text x="{x1 + 4:.1f}" y="{y + bar * 0.7:.1f}">{r["ratio"]:.2f}x</text>')
        if r.get("target"):
            tx = x(r["target"])
            parts.append(f'<line x1="{tx:.1f}" y1="{y}" x2="{tx:.1f}" y2="{y + bar}" stroke="black" stroke-width="2"/>')
    parts.append("</svg>\n")
    return "".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--build", default=os.path.join(root, "build", "release"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--filter", default="")
    ap.add_argument("--programs", default="", help="comma-separated program names (default: all bench_*)")
    args = ap.parse_args()
    out = args.out or os.path.join(args.build, "report")
    os.makedirs(out, exist_ok=True)
    programs = sorted(p for p in glob.glob(os.path.join(args.build, "bin", "bench_*")) if os.access(p, os.X_OK))
    if args.programs:
        wanted = set(args.programs.split(","))
        programs = [p for p in programs if os.path.basename(p) in wanted]
    if not programs:
        sys.exit(f"no bench_* programs in {args.build}/bin: build the release preset first")
    min_time = 0.05 if args.quick else 0.5
    rows, failures, crashed = [], [], False
    for p in programs:
        # Workload drivers that share the bench_ prefix (e.g. bench_appserver_typing, a fixed
        # workload for callgrind) are not Google Benchmark programs: list, don't run them.
        probe = subprocess.run([p, "--benchmark_list_tests=true"], capture_output=True, text=True)
        if probe.returncode != 0:
            print(f"skipping {os.path.basename(p)}: not a Google Benchmark program")
            continue
        name, rc, ratios, errors = run_program(p, out, min_time, args.filter, args.quick)
        if rc != 0:
            crashed = True
            failures.append(f"{name}: exit code {rc}")
        failures += [f"{name}: {e}" for e in errors]
        for r in ratios:
            rows.append(dict(r, program=name))
    md = ["# Vitrine benchmark report", "",
          f"Programs: {', '.join(os.path.basename(p) for p in programs)}. "
          f"Mode: {'quick (CI)' if args.quick else 'normal'}. Every ratio compares two benchmarks of the same "
          "program run (same machine, same minutes); higher means the first is better.", "",
          ] + headline_section(out, rows, args.quick) + [
          "## Every ratio", "", "| program | ratio | value | target |", "|---|---|---:|---|"]
    for r in rows:
        target = f'>= {r["target"]:.2f}x ({"met" if r["met"] else "missed"})' if r.get("target") else ""
        md.append(f'| {r["program"]} | {r["label"]} | {r["ratio"]:.2f}x | {target} |')
    if failures:
        md += ["", "## Failures", ""] + [f"- {f}" for f in failures]
    md += ["", "![ratios](ratios.svg)", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(out, "ratios.svg"), "w") as f:
        f.write(svg_chart(rows))
    print("\n".join(md))
    print(f"\nwrote {out}/report.md and {out}/ratios.svg")
    # A program that exits non-zero fails the report (CI keeps every benchmark running); a
    # benchmark that reports an error is listed under Failures but does not.
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
