#!/usr/bin/env python3
"""Recall of GT-overlapping image pairs among retrieval pairs (issue 27).

A collection folder holds scene folders (each a make_zoom_scene output: gt/ and zoom_scene.txt)
whose images were extracted into one database as '<scene>/<image>'. Two images of one scene
overlap when their GT tracks share at least --min_common 3D points. RETRIEVAL.txt is scalesfm vocab_tree_retriever's output ("query partner score" lines) or the log of
COLMAP's `vocab_tree_retriever` (whose results go to its log only). A pair counts as found at k
when either image has the other among its top k retrieval partners (the pairs vocab_tree_matcher
matches with --VocabTreeMatching.num_images k).

Usage: retrieval_recall.py COLLECTION RETRIEVAL.txt [--ks 5,10,20] [--min_common 20] [--json OUT]
"""
import argparse
import collections
import json
import os
import re


def read_gt_tracks(scene_dir):
    """image name -> set of 3D point ids, from gt/images.txt."""
    tracks = {}
    with open(os.path.join(scene_dir, "gt", "images.txt")) as f:
        lines = [l for l in f if not l.startswith("#")]
    for i in range(0, len(lines) - 1, 2):
        name = lines[i].split()[9]
        values = lines[i + 1].split()
        tracks[name] = {int(values[j]) for j in range(2, len(values), 3) if values[j] != "-1"}
    return tracks


def read_zooms(scene_dir):
    zooms = {}
    path = os.path.join(scene_dir, "zoom_scene.txt")
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.split()
            zooms[fields[0]] = float(fields[2])
    return zooms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("collection")
    ap.add_argument("retrieval")
    ap.add_argument("--ks", default="5,10,20")
    ap.add_argument("--min_common", type=int, default=20)
    ap.add_argument("--json")
    a = ap.parse_args()
    ks = [int(k) for k in a.ks.split(",")]

    ranked = collections.defaultdict(list)
    query = None
    for line in open(a.retrieval):
        # COLMAP's `vocab_tree_retriever` log: "Querying for image NAME [i/n] ..." then
        # "  image_id=..., image_name=NAME, score=..." lines, the query itself among them.
        m = re.match(r"Querying for image (\S+) ", line)
        if m:
            query = m.group(1)
            continue
        m = re.match(r"\s+image_id=\d+, image_name=(\S+), score=", line)
        if m:
            if query and m.group(1) != query:
                ranked[query].append(m.group(1))
            continue
        if line.startswith("#") or not line.strip() or line.startswith("Indexing"):
            continue
        q, p, _ = line.split()
        ranked[q].append(p)

    overlaps = []  # (name1, name2, kind)
    for scene in sorted(os.listdir(a.collection)):
        scene_dir = os.path.join(a.collection, scene)
        if not os.path.isdir(os.path.join(scene_dir, "gt")):
            continue
        tracks = read_gt_tracks(scene_dir)
        zooms = read_zooms(scene_dir)
        names = sorted(tracks)
        for i, n1 in enumerate(names):
            for n2 in names[i + 1:]:
                if len(tracks[n1] & tracks[n2]) < a.min_common:
                    continue
                z1, z2 = zooms.get(n1, 1), zooms.get(n2, 1)
                if z1 == 1 and z2 == 1:
                    kind = "wide-wide"
                elif min(z1, z2) == 1:
                    kind = "wide-zoom%d" % max(z1, z2)
                else:
                    kind = "zoom-zoom"
                overlaps.append((scene + "/" + n1, scene + "/" + n2, kind))

    result = {"num_queries": len(ranked), "min_common": a.min_common, "recall": {}}
    kinds = sorted({k for _, _, k in overlaps})
    groups = {"all": overlaps, "wide-zoom": [o for o in overlaps if o[2].startswith("wide-zoom")]}
    for kind in kinds:
        groups[kind] = [o for o in overlaps if o[2] == kind]
    for k in ks:
        top = {q: set(p[:k]) for q, p in ranked.items()}
        row = {}
        for g, pairs in groups.items():
            found = sum(1 for n1, n2, _ in pairs if n2 in top.get(n1, ()) or n1 in top.get(n2, ()))
            row[g] = {"found": found, "total": len(pairs),
                      "recall": found / len(pairs) if pairs else None}
        result["recall"][k] = row
    for k in ks:
        print("k=%-3d " % k + "  ".join(
            "%s %.3f (%d/%d)" % (g, v["recall"] or 0, v["found"], v["total"])
            for g, v in result["recall"][k].items()))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
