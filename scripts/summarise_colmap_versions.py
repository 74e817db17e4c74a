#!/usr/bin/env python3
"""Tables for BENCHMARKS from scripts/bench_colmap_versions.sh's output folder."""
import json
import os
import re
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "bench_out/colmap_versions"
configs = [c for c in ("colmap38", "colmap4", "colmap4-global") if os.path.isdir(os.path.join(out, c))]
label = {"colmap38": "3.8 incremental", "colmap4": "4.1.1 incremental", "colmap4-global": "4.1.1 global"}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []


print("### eval_eth (GT intrinsics fixed)\n")
print("| scene | method | COLMAP, mapper | registered | mAA@10 | track len | points | match s | map s | total s | map s / 3.8 stock's |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
eth = {c: load(os.path.join(out, c, "eth", "results.json")) for c in configs}
stock38 = {r["dataset"]: r["mapping_s"] for r in eth.get("colmap38", []) if r["method"] == "colmap-default"}
scenes = []
for rows in eth.values():
    for r in rows:
        if r["dataset"] not in scenes:
            scenes.append(r["dataset"])
totals = {}
for scene in scenes:
    for method in ("colmap-default", "scalesfm"):
        for c in configs:
            for r in eth[c]:
                if r["dataset"] != scene or r["method"] != method:
                    continue
                ratio = r["mapping_s"] / stock38[scene] if stock38.get(scene) else float("nan")
                print(f"| {scene} | {method} | {label[c]} | {r['registered']}/{r['num_images']} | "
                      f"{r['maa10']:.3f} | {r['mean_track_length']:.2f} | {r['points']} | "
                      f"{r['matching_s']:.1f} | {r['mapping_s']:.1f} | {r['total_s']:.1f} | {ratio:.2f} |")
                t = totals.setdefault((method, c), [0, 0, 0.0, 0.0, 0])
                t[0] += r["registered"]
                t[1] += r["num_images"]
                t[2] += r["mapping_s"]
                t[3] += r["maa10"]
                t[4] += 1
print("\nSums over the scenes:\n")
print("| method | COLMAP, mapper | registered | mean mAA@10 | map s | map s / 3.8 stock's |")
print("|---|---|---|---|---|---|")
stock_sum = totals.get(("colmap-default", "colmap38"), [0, 0, 0.0])[2]
for (method, c), t in sorted(totals.items()):
    print(f"| {method} | {label[c]} | {t[0]}/{t[1]} | {t[3] / t[4]:.3f} | {t[2]:.1f} | "
          f"{t[2] / stock_sum if stock_sum else float('nan'):.2f} |")

print("\n### automatic_reconstructor (no intrinsics given: no EXIF, refined) + evaluate_model\n")
print("| scene | COLMAP, mapper | registered | points | track len | mAA@10 | total s |")
print("|---|---|---|---|---|---|---|")
for c in configs:
    times = {}
    tpath = os.path.join(out, c, "auto", "times.txt")
    if os.path.exists(tpath):
        for line in open(tpath):
            s, _, t = line.split()
            times[s] = float(t)
    for scene, t in times.items():
        text = open(os.path.join(out, c, "auto", scene + ".eval.txt")).read()
        reg = re.search(r"Registered GT images: (\d+) / (\d+)", text)
        pts = re.search(r"Points:\s+(\d+)", text)
        tl = re.search(r"Mean track length: ([\d.]+)", text)
        maa = re.search(r"mAA@10: ([\d.]+)", text)
        print(f"| {scene} | {label[c]} | {reg.group(1) + '/' + reg.group(2) if reg else '-'} | "
              f"{pts.group(1) if pts else '-'} | {float(tl.group(1)) if tl else 0:.2f} | "
              f"{maa.group(1) if maa else '-'} | {t:.1f} |")

print("\n### eval_imc multiview (free intrinsics, bags of 5, 10 bags per scene)\n")
print("| scene | method | COLMAP, mapper | mAA@10 | mAA@5 | registered fraction | bags without model | s |")
print("|---|---|---|---|---|---|---|---|")
for c in configs:
    for r in load(os.path.join(out, c, "imc", "imc_results.json")):
        if r["task"] != "multiview":
            continue
        print(f"| {r['dataset']} | {r['method']} | {label[c]} | {r['maa10']:.3f} | {r['maa5']:.3f} | "
              f"{r['registered_fraction']:.3f} | {r['bags_without_model']} | {r['seconds']:.1f} |")
