#!/usr/bin/env python3
"""Summarises an eval_eth results.json of generated zoom scenes (bench_zoom_generalisation.sh).

Prints, as markdown: each scene's registration, mAA@10 and time per method; per method the mean
and spread of mAA@10 over scenes and the summed time as a ratio to colmap-default's; registration
by view type (wide / zoom2 / zoom4 / zoom8); and issue 24's acceptance checks for every scalesfm
method against colmap-default (and colmap-best when it ran).
With --base (the base scenes), the checks are the base-scene ones instead: registration equal
and mAA@10 >= stock - 0.01 on every scene. The intrinsics mode of the rows is printed first.
Usage: summarise_zoom_generalisation.py [--base] RESULTS_JSON [STOCK_METHOD]
"""
import json
import statistics
import sys
from collections import OrderedDict, defaultdict


def main():
    args = sys.argv[1:]
    base = "--base" in args
    args = [a for a in args if a != "--base"]
    rows = json.load(open(args[0]))
    stock = args[1] if len(args) > 1 else "colmap-default"
    methods = list(OrderedDict.fromkeys(r["method"] for r in rows))
    scenes = list(OrderedDict.fromkeys(r["dataset"] for r in rows))
    by = {(r["dataset"], r["method"]): r for r in rows if r["repetition"] == 0}

    modes = sorted({r.get("intrinsics", "gt") for r in rows})
    print("Intrinsics (eval_eth --intrinsics): " + ", ".join(modes) + "\n")
    print("| scene | " + " | ".join(f"{m} reg · mAA@10 · s" for m in methods) + " |")
    print("|---|" + "---|" * len(methods))
    for s in scenes:
        cells = []
        for m in methods:
            r = by.get((s, m))
            cells.append("-" if r is None else
                         f"{r['registered']}/{r['num_images']} · {r['maa10']:.3f} · "
                         f"{r['total_s']:.0f}")
        print(f"| {s} | " + " | ".join(cells) + " |")

    def complete(m):
        return [s for s in scenes if (s, m) in by and (s, stock) in by]

    print("\n| method | scenes | mAA@10 mean | sd | min | max | registered | time / "
          f"{stock} |")
    print("|---|---|---|---|---|---|---|---|")
    for m in methods:
        ss = complete(m)
        if not ss:
            continue
        maa = [by[(s, m)]["maa10"] for s in ss]
        reg = sum(by[(s, m)]["registered"] for s in ss)
        n = sum(by[(s, m)]["num_images"] for s in ss)
        t = sum(by[(s, m)]["total_s"] for s in ss)
        t0 = sum(by[(s, stock)]["total_s"] for s in ss)
        sd = statistics.stdev(maa) if len(maa) > 1 else 0.0
        print(f"| {m} | {len(ss)} | {statistics.mean(maa):.3f} | {sd:.3f} | {min(maa):.3f} | "
              f"{max(maa):.3f} | {reg}/{n} | {t / t0:.2f}x |")

    views = sorted({v for r in rows for v in r.get("views", {})},
                   key=lambda v: 1.0 if v == "wide" else float(v[4:].replace("p", ".")))
    totals = defaultdict(lambda: [0, 0])
    for r in rows:
        if r["repetition"] != 0:
            continue
        for v, (reg, n) in r.get("views", {}).items():
            totals[(r["method"], v)][0] += reg
            totals[(r["method"], v)][1] += n
    if views:
        print("\n| method | " + " | ".join(views) + " |")
        print("|---|" + "---|" * len(views))
        for m in methods:
            cells = []
            for v in views:
                reg, n = totals[(m, v)]
                cells.append(f"{reg}/{n} ({100.0 * reg / n:.0f}%)" if n else "-")
            print(f"| {m} | " + " | ".join(cells) + " |")

    reasons = ["no covisible image", "no candidate pair", "too few raw matches",
               "too few inliers", "too few inliers agreeing with GT",
               "not registered despite inliers"]
    lost = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r["repetition"] != 0:
            continue
        for v, counts in r.get("lost", {}).items():
            for reason, n in counts.items():
                lost[(r["method"], v)][reason] += n
    if lost:
        print("\nWhere the unregistered views were lost:\n")
        print("| method | view | lost | " + " | ".join(reasons) + " |")
        print("|---|---|---|" + "---|" * len(reasons))
        for m in methods:
            for v in views + ["other"]:
                counts = lost.get((m, v))
                if counts:
                    print(f"| {m} | {v} | {sum(counts.values())} | " +
                          " | ".join(str(counts.get(x, 0)) for x in reasons) + " |")

    if base:
        print("\nBase scenes (issue 24: no loss), against " + stock + ":")
        for m in methods:
            if not m.startswith("scalesfm"):
                continue
            ss = complete(m)
            if not ss:
                print(f"- {m}: no scene with both {m} and {stock}: nothing checked")
                continue
            unequal = [s for s in ss if by[(s, m)]["registered"] != by[(s, stock)]["registered"]]
            worse = [s for s in ss if by[(s, m)]["maa10"] < by[(s, stock)]["maa10"] - 0.01]
            print(f"- {m}: registration equal on every scene: {'FAIL' if unequal else 'PASS'}"
                  f" ({', '.join(unequal)})")
            print(f"- {m}: mAA@10 >= {stock} - 0.01 on every scene: "
                  f"{'FAIL' if worse else 'PASS'} ({', '.join(worse)})")
        return

    print("\nAcceptance (issue 24), against " + stock + ":")
    for m in methods:
        if not m.startswith("scalesfm"):
            continue
        ss = complete(m)
        if not ss:
            continue
        fewer = [s for s in ss if by[(s, m)]["registered"] < by[(s, stock)]["registered"]]
        mean = statistics.mean(by[(s, m)]["maa10"] for s in ss)
        mean0 = statistics.mean(by[(s, stock)]["maa10"] for s in ss)
        ratio = sum(by[(s, m)]["total_s"] for s in ss) / sum(by[(s, stock)]["total_s"] for s in ss)
        checks = [(f"registers >= {stock} on every scene", not fewer,
                   "fewer on " + ", ".join(fewer) if fewer else "")]
        for v, need in (("zoom4", 0.75), ("zoom8", 0.50)):
            reg, n = totals[(m, v)]
            if n:
                checks.append((f"{v} registered >= {need:.0%}", reg >= need * n, f"{reg}/{n}"))
        checks.append((f"mean mAA@10 >= {stock} (issue 31)", mean >= mean0,
                       f"{mean:.3f} vs {mean0:.3f}"))
        checks.append((f"mean mAA@10 >= {stock} + 0.10", mean >= mean0 + 0.10,
                       f"{mean:.3f} vs {mean0:.3f}"))
        both = [s for s in ss if (s, "colmap-best") in by]
        if both:
            best = statistics.mean(by[(s, "colmap-best")]["maa10"] for s in both)
            own = statistics.mean(by[(s, m)]["maa10"] for s in both)
            checks.append(("mean mAA@10 >= colmap-best", own >= best,
                           f"{own:.3f} vs {best:.3f} on {len(both)} scenes"))
        checks.append((f"time <= 1.0x {stock}", ratio <= 1.0, f"{ratio:.2f}x"))
        for name, ok, detail in checks:
            print(f"- {m}: {name}: {'PASS' if ok else 'FAIL'} ({detail})")


if __name__ == "__main__":
    main()
