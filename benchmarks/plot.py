#!/usr/bin/env python3
"""Turns the JSON of a ContextSwitchBenchmark run into an SVG of four panels: throughput, round-trip
latency (p50 and p99), context switches per request and bytes allocated per request.

Usage: benchmarks/plot.py RESULT.json OUT.svg

Standard library only, so it runs wherever python3 does. Each bar is labelled with its value;
latency and context switches use a log scale because the approaches differ by orders of magnitude.
"""
import json
import math
import sys
from html import escape

APPROACHES = [
    ("millraceInline", "(a) Millrace inline"),
    ("millraceRingHop", "(b) Millrace ring hop"),
    ("classicSeda", "(c) classic SEDA"),
    ("virtualThread", "(d) virtual thread/request"),
    ("disruptorHandoff", "(e) raw Disruptor hand-off"),
]


def label_of(bench):
    """'(b) Millrace ring hop [backoff, sampling 1]' from a JMH result entry."""
    method = bench["benchmark"].rsplit(".", 1)[1]
    base = method[:-len("Latency")] if method.endswith("Latency") else method
    name = dict(APPROACHES).get(base, base)
    params = bench.get("params") or {}
    extra = [v if k.endswith("Idle") else f"{k} {v}" for k, v in sorted(params.items())]
    return base, (name + (" [" + ", ".join(extra) + "]" if extra else ""))


def collect(results):
    rows = {}
    order = {a: i for i, (a, _) in enumerate(APPROACHES)}
    for bench in results:
        base, label = label_of(bench)
        row = rows.setdefault(label, {"order": (order.get(base, 99), label)})
        primary = bench["primaryMetric"]
        secondary = bench.get("secondaryMetrics", {})
        if bench["mode"] == "thrpt":
            row["thrpt"] = primary["score"]
            row["thrpt_err"] = primary.get("scoreError") or 0
            if "cs.total" in secondary:
                row["cs"] = secondary["cs.total"]["score"]
            if "gc.alloc.rate.norm" in secondary:
                row["bytes"] = secondary["gc.alloc.rate.norm"]["score"]
        elif bench["mode"] == "sample":
            pct = primary.get("scorePercentiles", {})
            row["p50"] = pct.get("50.0")
            row["p99"] = pct.get("99.0")
    return [rows[k] for k in sorted(rows, key=lambda k: rows[k]["order"])]


def panel(out, y0, title, unit, rows, keys, log, width=900, label_w=330, bar_h=14):
    colours = ["#2b6cb0", "#dd6b20"]
    values = [row.get(k) for row in rows for k in keys if row.get(k) is not None]
    out.append(f'<text x="10" y="{y0 + 16}" font-size="15" font-weight="bold">{escape(title)} ({escape(unit)})</text>')
    if not values:
        out.append(f'<text x="10" y="{y0 + 36}" font-size="12">no data</text>')
        return y0 + 50
    top = max(values)
    low = min(v for v in values if v > 0) if log and any(v > 0 for v in values) else 0
    span = width - label_w - 120

    def scale(v):
        if v is None or v <= 0:
            return 0
        if log:
            lo = math.log10(low) - 0.3
            hi = math.log10(top)
            return span * (math.log10(v) - lo) / max(1e-9, hi - lo)
        return span * v / top

    y = y0 + 28
    for row in rows:
        label = row["order"][1]
        out.append(f'<text x="{label_w - 6}" y="{y + bar_h * len(keys) / 2 + 4}" font-size="11" text-anchor="end">{escape(label)}</text>')
        for i, key in enumerate(keys):
            v = row.get(key)
            w = scale(v)
            out.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{colours[i % 2]}"/>')
            text = "n/a" if v is None else (f"{v:.3g}" if v < 1000 else f"{v:,.0f}")
            suffix = f" {key}" if len(keys) > 1 else ""
            out.append(f'<text x="{label_w + w + 4}" y="{y + bar_h - 3}" font-size="10">{text}{suffix}</text>')
            y += bar_h
        y += 6
    return y + 10


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        results = json.load(f)
    rows = collect([r for r in results if "ContextSwitchBenchmark" in r["benchmark"]])
    out = []
    y = 10
    y = panel(out, y, "Pipelined throughput, higher is better", "requests/us", rows, ["thrpt"], False)
    y = panel(out, y, "Round-trip latency, lower is better", "us, log scale", rows, ["p50", "p99"], True)
    y = panel(out, y, "Context switches per request, lower is better", "#/op, log scale", rows, ["cs"], True)
    y = panel(out, y, "Allocation per request, lower is better", "B/op", rows, ["bytes"], False)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="{y}" font-family="sans-serif">',
           f'<rect width="900" height="{y}" fill="white"/>'] + out + ["</svg>"]
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
