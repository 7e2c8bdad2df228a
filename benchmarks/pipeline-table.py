#!/usr/bin/env python3
"""Prints the table of a PipelineBenchmark JMH JSON result (benchmarks/pipeline-bench.sh): per variant
throughput, latency p50/p99/p99.9, context switches and bytes per request, each with JMH's 99.9 %
error, then Millrace's ratios to the other two against the goals.

Usage: benchmarks/pipeline-table.py RESULT.json

Standard library only.
"""
import json
import sys

NAMES = {"millrace": "Millrace", "threadPoolPerStage": "thread pool per stage",
         "virtualThreadPerRequest": "virtual thread per request"}


def metric(bench, name):
    if name is None:
        m = bench["primaryMetric"]
    else:
        m = bench["secondaryMetrics"].get(name)
        if m is None:
            return None, None
    # With one iteration JMH writes the error as the string "NaN".
    return float(m["score"]), float(m["scoreError"])


def scaled(pair, factor):
    score, err = pair
    return (None, None) if score is None else (score * factor, err * factor)


def fmt(pair, digits=1):
    score, err = pair
    if score is None:
        return "n/a"
    if err != err:  # NaN: one iteration
        return f"{score:,.{digits}f}"
    return f"{score:,.{digits}f} ± {err:,.{digits}f}"


def main(path):
    with open(path) as f:
        results = json.load(f)
    rows = {}
    for b in results:
        cls, method = b["benchmark"].rsplit(".", 1)
        if cls.endswith(".PipelineBenchmark"):
            rows[method] = b
    if not rows:
        sys.exit(f"{path} holds no PipelineBenchmark result")
    print("| variant | requests/ms | p50 µs | p99 µs | p99.9 µs | cs/request | B/request | CPU µs/request |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for key, label in NAMES.items():
        b = rows.get(key)
        if b is None:
            continue
        print(f"| {label} | {fmt(metric(b, None))} | {fmt(metric(b, 'latency.p50'), 0)} | "
              f"{fmt(metric(b, 'latency.p99'), 0)} | {fmt(metric(b, 'latency.p99.9'), 0)} | "
              f"{fmt(metric(b, 'cs.total'), 3)} | {fmt(metric(b, 'gc.alloc.rate.norm'), 1)} | "
              f"{fmt(scaled(metric(b, 'cpu.time'), 1e-3), 1)} |")
    m = rows.get("millrace")
    if m is None:
        return

    def ratio(other, name):
        a, _ = metric(m, name)
        b, _ = metric(other, name)
        if a is None or b is None or b == 0:
            return None
        return a / b

    def overlap(other, name):
        """True when the two scores' JMH error bars overlap: equal within error."""
        a, ea = metric(m, name)
        b, eb = metric(other, name)
        if a is None or b is None or ea != ea or eb != eb:
            return False
        return abs(a - b) <= ea + eb

    print()
    print("| goal | Millrace / peer | met |")
    print("| --- | --- | --- |")
    # "within error": the ratio misses, but the two error bars overlap.
    goals = [("threadPoolPerStage", None, ">= 2x thread pool throughput", lambda r: r >= 2),
             ("threadPoolPerStage", "cs.total", "<= 1/2 thread pool cs/request", lambda r: r <= 0.5),
             ("threadPoolPerStage", "latency.p99", "<= 1/3 thread pool p99", lambda r: r <= 1 / 3),
             ("virtualThreadPerRequest", None, ">= 1x virtual thread throughput", lambda r: r >= 1),
             ("virtualThreadPerRequest", "gc.alloc.rate.norm", "<= 1/10 virtual thread B/request",
              lambda r: r <= 0.1)]
    for peer, name, text, ok in goals:
        if peer not in rows:
            continue
        r = ratio(rows[peer], name)
        if r is None:
            verdict = "n/a"
        elif ok(r):
            verdict = "yes"
        else:
            verdict = "no (within error)" if overlap(rows[peer], name) else "no"
        print(f"| {text} | {'n/a' if r is None else f'{r:.2f}x'} | {verdict} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
