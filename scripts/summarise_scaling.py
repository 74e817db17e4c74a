#!/usr/bin/env python3
"""Summarises scripts/bench_scaling.sh's results.csv: report.md (tables, fitted growth exponents,
the N = 400 cost of vocab-tree against exhaustive matching) and scaling.svg (matching time
against N, log-log).

Usage: summarise_scaling.py RESULTS.csv OUT_DIR
"""
import collections
import csv
import math
import os
import sys


def fit_exponent(points):
    """Least-squares slope of log(seconds) against log(N)."""
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(s, 1e-3)) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else None


def svg_plot(series, path):
    w, h, m = 640, 420, 60
    all_pts = [p for pts in series.values() for p in pts]
    if not all_pts:
        return
    nmin, nmax = min(p[0] for p in all_pts), max(p[0] for p in all_pts)
    smin = min(max(p[1], 0.1) for p in all_pts)
    smax = max(p[1] for p in all_pts)
    lx0, lx1 = math.log(nmin) - 0.1, math.log(nmax) + 0.1
    ly0, ly1 = math.log(smin) - 0.2, math.log(smax) + 0.2

    def xy(n, s):
        x = m + (math.log(n) - lx0) / (lx1 - lx0) * (w - 2 * m)
        y = h - m - (math.log(max(s, 0.1)) - ly0) / (ly1 - ly0) * (h - 2 * m)
        return x, y

    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f"]
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="14">Matching time against N (log-log; dashed: '
           'extrapolated)</text>' % m]
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (m, h - m, w - m, h - m))
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (m, m, m, h - m))
    for n in sorted({p[0] for p in all_pts}):
        x, _ = xy(n, smin)
        out.append('<text x="%.0f" y="%d" text-anchor="middle">%d</text>' % (x, h - m + 16, n))
    s = 10 ** math.floor(math.log10(smin))
    while s <= smax * 10:
        if smin / 3 <= s <= smax * 3:
            _, y = xy(nmin, s)
            out.append('<text x="%d" y="%.0f" text-anchor="end">%gs</text>' % (m - 4, y + 4, s))
            out.append('<line x1="%d" y1="%.0f" x2="%d" y2="%.0f" stroke="#ddd"/>' %
                       (m, y, w - m, y))
        s *= 10
    out.append('<text x="%d" y="%d" text-anchor="middle">N images</text>' % (w / 2, h - 20))
    for i, (name, pts) in enumerate(sorted(series.items())):
        c = colours[i % len(colours)]
        pts = sorted(pts)
        for (n0, s0, e0), (n1, s1, e1) in zip(pts, pts[1:]):
            x0, y0 = xy(n0, s0)
            x1, y1 = xy(n1, s1)
            dash = ' stroke-dasharray="5,4"' if (e0 or e1) else ""
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" '
                       'stroke-width="2"%s/>' % (x0, y0, x1, y1, c, dash))
        for n, s_, e in pts:
            x, y = xy(n, s_)
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (x, y, c if not e else "white"))
        out.append('<text x="%d" y="%d" fill="%s">%s</text>' % (m + 10, m + 14 * i, c, name))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    out_dir = sys.argv[2]
    by = collections.defaultdict(dict)  # (tool, pairing) -> n -> stage -> row
    ns = sorted({int(r["n"]) for r in rows})
    for r in rows:
        by[(r["tool"], r["pairing"])].setdefault(int(r["n"]), {})[r["stage"]] = r
    lines = ["| N | tool | pairing | pairs | matching s | s/pair | peak MiB | mapping s | "
             "registered | mAA@10 |", "|---|---|---|---|---|---|---|---|---|---|"]
    for n in ns:
        for key in sorted(by):
            st = by[key].get(n, {})
            if "matching" not in st and "extraction" not in st and "index" not in st:
                continue
            for stage in ("extraction", "index"):
                if stage in st:
                    r = st[stage]
                    lines.append("| %d | %s | %s | | %s: %s | | %s | | | |" %
                                 (n, key[0], "-" if key[1] == "-" else key[1], stage,
                                  r["seconds"], r["peak_mib"]))
            if "matching" in st:
                r = st["matching"]
                mp = st.get("mapping", {})
                pairs = int(r["pairs"] or 0)
                lines.append("| %d | %s | %s | %d | %s | %.3f | %s | %s | %s | %s |" % (
                    n, key[0], key[1], pairs, r["seconds"],
                    float(r["seconds"]) / pairs if pairs else 0, r["peak_mib"],
                    mp.get("seconds", ""), mp.get("registered", ""), mp.get("maa10", "")))
    # Growth: matching time against N per (tool, pairing); exhaustive extrapolated from the
    # per-pair cost at its largest measured N.
    series = {}
    growth = ["| tool | pairing | N measured | exponent (fit of log time on log N) |",
              "|---|---|---|---|"]
    for key in sorted(by):
        pts = [(n, float(st["matching"]["seconds"]), False) for n, st in by[key].items()
               if "matching" in st]
        if not pts:
            continue
        e = fit_exponent([(n, s) for n, s, _ in pts])
        growth.append("| %s | %s | %s | %s |" % (key[0], key[1], ",".join(str(p[0]) for p in sorted(pts)),
                                                 "%.2f" % e if e is not None else "-"))
        if key[1] == "exhaustive":
            nmax = max(p[0] for p in pts)
            st = by[key][nmax]["matching"]
            per_pair = float(st["seconds"]) / int(st["pairs"])
            for n in ns:
                if n > nmax:
                    pts.append((n, per_pair * n * (n - 1) / 2, True))
        series["%s %s" % key] = pts
    svg_plot(series, os.path.join(out_dir, "scaling.svg"))
    ratio = ["| tool | N | vocab20 matching s | exhaustive matching s | ratio |", "|---|---|---|---|---|"]
    for tool in ("scalesfm", "colmap"):
        ex = {n: (s, e) for n, s, e in series.get(tool + " exhaustive", [])}
        v20 = {n: s for n, s, _ in series.get(tool + " vocab20", [])}
        for n in ns:
            if n in ex and n in v20:
                ratio.append("| %s | %d | %.1f | %.1f%s | %.3f |" % (
                    tool, n, v20[n], ex[n][0], " (extrapolated)" if ex[n][1] else "",
                    v20[n] / ex[n][0]))
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write("# Scaling benchmark\n\n" + "\n".join(lines) + "\n\n## Growth of matching time\n\n" +
                "\n".join(growth) + "\n\n## Vocab tree (k = 20) against exhaustive\n\n" +
                "\n".join(ratio) + "\n\n![scaling](scaling.svg)\n")
    print(open(os.path.join(out_dir, "report.md")).read())


if __name__ == "__main__":
    main()
