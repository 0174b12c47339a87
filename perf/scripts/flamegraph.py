#!/usr/bin/env python3
"""Turns a perf recording into a flame graph a person can open.

Usage: perf/scripts/flamegraph.py [perf.data] [-o OUT] [--format speedscope|folded|svg]

  speedscope (default): OUT.speedscope.json, open it at https://www.speedscope.app or with the
                        speedscope npm package (works offline);
  folded:               "frame;frame;frame count" lines (Brendan Gregg's flamegraph.pl input);
  svg:                  a self-contained icicle-style SVG (no external tools needed).
"""
import argparse
import collections
import html
import json
import subprocess
import sys


def stacks_from_perf(data):
    """Yields (command, [frames root->leaf]) from `perf script`."""
    try:
        out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym"], check=True,
                             capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit("perf not found: install linux-perf")
    except subprocess.CalledProcessError as e:
        sys.exit("perf script failed: " + e.stderr.strip())
    comm, frames = None, []
    for line in out.splitlines() + [""]:
        if not line.strip():
            if comm is not None and frames:
                yield comm, list(reversed(frames))
            comm, frames = None, []
        elif comm is None:
            comm = line.strip().split()[0]
        else:
            parts = line.strip().split(None, 1)
            frames.append(parts[1] if len(parts) > 1 else parts[0])


def folded(data):
    counts = collections.Counter()
    for comm, frames in stacks_from_perf(data):
        counts[";".join([comm] + frames)] += 1
    return counts


def to_speedscope(counts, name):
    frames, index, samples, weights = [], {}, [], []
    for stack, n in counts.items():
        ids = []
        for f in stack.split(";"):
            if f not in index:
                index[f] = len(frames)
                frames.append({"name": f})
            ids.append(index[f])
        samples.append(ids)
        weights.append(n)
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": [{"type": "sampled", "name": name, "unit": "none", "startValue": 0,
                      "endValue": sum(weights), "samples": samples, "weights": weights}],
        "name": name, "exporter": "vitrine perf/scripts/flamegraph.py",
    }


def to_svg(counts, width=1600, row=16):
    root = {"n": 0, "kids": {}}
    for stack, n in counts.items():
        node = root
        node["n"] += n
        for f in stack.split(";"):
            node = node["kids"].setdefault(f, {"n": 0, "kids": {}})
            node["n"] += n
    rects, depth_max = [], [0]

    def walk(node, x, depth):
        depth_max[0] = max(depth_max[0], depth)
        for name, kid in sorted(node["kids"].items()):
            w = width * kid["n"] / max(root["n"], 1)
            if w >= 0.5:
                hue = 20 + (hash(name) % 40)
                rects.append(f'<g><title>{html.escape(name)} ({kid["n"]} samples)</title>'
                             f'<rect x="{x:.1f}" y="{depth * row}" width="{w:.1f}" height="{row - 1}" '
                             f'fill="hsl({hue},80%,60%)"/>'
                             + (f'<text x="{x + 2:.1f}" y="{depth * row + row - 4}" font-size="11">'
                                f'{html.escape(name[: int(w / 7)])}</text>' if w > 30 else "") + "</g>")
            walk(kid, x, depth + 1)
            x += w
    walk(root, 0.0, 0)
    h = (depth_max[0] + 1) * row
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" '
            f'font-family="monospace">' + "".join(rects) + "</svg>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default="perf.data")
    ap.add_argument("-o", "--out", help="output path (default derived from the input)")
    ap.add_argument("--format", choices=["speedscope", "folded", "svg"], default="speedscope")
    args = ap.parse_args()
    counts = folded(args.data)
    if not counts:
        sys.exit(f"no samples with call stacks in {args.data}")
    ext = {"speedscope": ".speedscope.json", "folded": ".folded", "svg": ".svg"}[args.format]
    out = args.out or args.data + ext
    with open(out, "w") as f:
        if args.format == "speedscope":
            json.dump(to_speedscope(counts, args.data), f)
        elif args.format == "folded":
            for stack, n in counts.most_common():
                f.write(f"{stack} {n}\n")
        else:
            f.write(to_svg(counts))
    print(f"{sum(counts.values())} samples, {len(counts)} distinct stacks -> {out}")


if __name__ == "__main__":
    main()
