#!/usr/bin/env python3
"""Prints a Markdown table pairing two JMH JSON results of the same suite, benchmark by benchmark:
the score with JMH's 99.9% error before and after, their ratio (before / after, for time per
operation: above 1 is faster), and bytes allocated per operation (-prof gc) before and after. The
per-thread scores of a @Group benchmark (JMH's secondary metrics named after its methods) get rows
of their own, as GROUP:METHOD.

Usage: benchmarks/before-after-table.py BEFORE.json AFTER.json

Standard library only.
"""
import json
import sys


def load(path):
    out = {}
    for bench in json.load(open(path)):
        name = bench["benchmark"].rsplit(".", 1)[1]
        if bench.get("params"):
            name += " (" + ", ".join(f"{k}={v}" for k, v in sorted(bench["params"].items())) + ")"
        p = bench["primaryMetric"]
        sec = bench.get("secondaryMetrics", {})
        gc = sec.get("gc.alloc.rate.norm", {}).get("score")
        out[name] = (p["score"], p.get("scoreError") or 0, gc, p["scoreUnit"])
        for key, m in sec.items():
            if not key.startswith("gc.") and not key.startswith("·") and m.get("scoreUnit") == p["scoreUnit"]:
                out[name + ":" + key] = (m["score"], m.get("scoreError") or 0, None, m["scoreUnit"])
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    before, after = load(sys.argv[1]), load(sys.argv[2])
    print("| benchmark | before | after | before / after | B/op before, after |")
    print("| --- | --- | --- | --- | --- |")
    for name in sorted(before, key=lambda n: (n.split(":")[0], n)):
        if name not in after:
            continue
        (bs, be, bg, unit), (a, ae, ag, _) = before[name], after[name]
        gc = "" if bg is None or ag is None else f"{bg:.2g}, {ag:.2g}"
        print(f"| {name} | {bs:.3g} ± {be:.2g} {unit} | {a:.3g} ± {ae:.2g} {unit} | {bs / a:.2f}x | {gc} |")


if __name__ == "__main__":
    main()
