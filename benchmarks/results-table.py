#!/usr/bin/env python3
"""Prints a Markdown table of a JMH JSON result: benchmark, parameters, score with JMH's 99.9%
error, bytes allocated per operation (-prof gc) and context switches per operation (our
ContextSwitchProfiler), plus p50/p99 for SampleTime results.

Usage: benchmarks/results-table.py RESULT.json [more.json ...]

Standard library only. The figures in docs/benchmarks.md are this script's output, unedited.
"""
import json
import sys


def fmt(x, digits=3):
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    if x != x:  # NaN
        return "NaN"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.{digits}g}" if abs(x) < 100 else f"{x:.1f}"
    if x == 0:
        return "0"
    return f"{x:.2g}"


def secondary(bench, name):
    m = bench.get("secondaryMetrics", {}).get(name)
    return None if m is None else m["score"]


def row(bench):
    name = bench["benchmark"].rsplit(".", 2)[-2] + "." + bench["benchmark"].rsplit(".", 1)[1]
    params = ", ".join(f"{k}={v}" for k, v in sorted((bench.get("params") or {}).items()))
    p = bench["primaryMetric"]
    score = f"{fmt(p['score'])} ± {fmt(p.get('scoreError') or 0)} {p['scoreUnit']}"
    pct = p.get("scorePercentiles", {})
    lat = ""
    if bench["mode"] == "sample":
        lat = f"p50 {fmt(pct.get('50.0'))}, p99 {fmt(pct.get('99.0'))} {p['scoreUnit']}"
    return [name, params, bench["mode"], score, lat,
            fmt(secondary(bench, "gc.alloc.rate.norm")), fmt(secondary(bench, "cs.total"))]


def main(paths):
    print("| benchmark | params | mode | score ± error (99.9%) | latency | B/op | cs/op |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for path in paths:
        with open(path) as f:
            for bench in json.load(f):
                print("| " + " | ".join(row(bench)) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
