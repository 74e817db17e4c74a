#!/usr/bin/env python3
"""Fewer points for the mapper: variants of a matched scalesfm database, for
scripts/bench_mapper_options.sh (issue 24, docs/BENCHMARKS.md "Fewer points for the mapper").

Each variant copies SRC to DST and removes correspondences from two_view_geometries only (the
table COLMAP's mapper reads); keypoints, raw matches and scales stay.

  twoview K FLOOR   drop correspondences that form 2-view tracks (union-find over every pair's
                    inliers) where both images keep >= K observations in longer tracks; each pair
                    keeps >= FLOOR correspondences.
  grid G FLOOR      per image, keep one matched keypoint per G x G pixel cell (the one with the
                    longest track) and drop correspondences with a dropped end; each pair keeps
                    >= FLOOR (longest tracks first).
  unguided MINLOG2 T  remove the guided pass's matches (scalesfm_guided_pairs.num_added, appended
                    after the verified inliers) from pairs whose sift_vote scale has
                    |log2 s| < MINLOG2 and whose verified inliers exceed T.

Usage: mapper_input_variants.py SRC DST twoview|grid|unguided ARG1 ARG2
"""
import array
import collections
import math
import shutil
import sqlite3
import sys

MAX_IMAGE_ID = 2147483647
VERIFIED = "rows > 0 and config in (2, 3, 4, 6)"  # calibrated, uncalibrated, planar(+panoramic)


def pairs_of(db):
    out = []
    for pid, data in db.execute(f"select pair_id, data from two_view_geometries where {VERIFIED}"):
        i2 = pid % MAX_IMAGE_ID
        i1 = (pid - i2) // MAX_IMAGE_ID
        a = array.array("I")
        a.frombytes(data)
        out.append((pid, i1, i2, list(zip(a[0::2], a[1::2]))))
    return out


def tracks(pairs):
    parent = {}

    def find(x):
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for _, i1, i2, m in pairs:
        for a, b in m:
            x, y = (i1, a), (i2, b)
            parent.setdefault(x, x)
            parent.setdefault(y, y)
            rx, ry = find(x), find(y)
            if rx != ry:
                parent[rx] = ry
    size = collections.Counter(find(k) for k in parent)
    return {k: size[find(k)] for k in parent}


def write(db, pid, kept):
    data = array.array("I", [v for ab in kept for v in ab]).tobytes()
    db.execute("update two_view_geometries set rows = ?, data = ? where pair_id = ?",
               (len(kept), data, pid))


def twoview(db, k_min, floor):
    pairs = pairs_of(db)
    length = tracks(pairs)
    long_obs = collections.Counter(k[0] for k, n in length.items() if n >= 3)
    for pid, i1, i2, m in pairs:
        thin = long_obs[i1] >= k_min and long_obs[i2] >= k_min
        keep = [ab for ab in m if not (thin and length[(i1, ab[0])] == 2)]
        drop = [ab for ab in m if thin and length[(i1, ab[0])] == 2]
        keep += drop[:max(0, floor - len(keep))]
        if len(keep) != len(m):
            write(db, pid, keep)


def grid(db, cell, floor):
    pairs = pairs_of(db)
    length = tracks(pairs)
    xy = {}
    for iid, cols, data in db.execute("select image_id, cols, data from keypoints"):
        a = array.array("f")
        a.frombytes(data)
        xy[iid] = (a, cols)
    cells = collections.defaultdict(list)
    for (iid, k), n in length.items():
        a, cols = xy[iid]
        cells[(iid, int(a[k * cols] // cell), int(a[k * cols + 1] // cell))].append((-n, k))
    keep = {(c[0], min(v)[1]) for c, v in cells.items()}
    for pid, i1, i2, m in pairs:
        kept = [ab for ab in m if (i1, ab[0]) in keep and (i2, ab[1]) in keep]
        if len(kept) < floor:
            rest = sorted((ab for ab in m if ab not in kept), key=lambda ab: -length[(i1, ab[0])])
            kept += rest[:floor - len(kept)]
        if len(kept) != len(m):
            write(db, pid, kept)


def unguided(db, min_log2, max_verified):
    added = dict(db.execute("select * from scalesfm_guided_pairs"))
    scale = dict(db.execute(
        "select pair_id, scale from scalesfm_pair_scales where estimator = 'sift_vote'"))
    for pid, rows, data in list(db.execute("select pair_id, rows, data from two_view_geometries")):
        num_added = added.get(pid, 0)
        verified = rows - num_added
        if num_added > 0 and abs(math.log2(scale.get(pid, 1.0))) < min_log2 and \
                verified > max_verified:
            a = array.array("I")
            a.frombytes(data)
            db.execute("update two_view_geometries set rows = ?, data = ? where pair_id = ?",
                       (verified, a[:2 * verified].tobytes(), pid))


def main():
    if len(sys.argv) != 6 or sys.argv[3] not in ("twoview", "grid", "unguided"):
        sys.exit(__doc__)
    src, dst, mode = sys.argv[1:4]
    shutil.copy(src, dst)
    db = sqlite3.connect(dst)
    before = db.execute(f"select sum(rows) from two_view_geometries where {VERIFIED}").fetchone()[0]
    if mode == "twoview":
        twoview(db, int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "grid":
        grid(db, float(sys.argv[4]), int(sys.argv[5]))
    else:
        unguided(db, float(sys.argv[4]), int(sys.argv[5]))
    db.commit()
    after = db.execute(f"select sum(rows) from two_view_geometries where {VERIFIED}").fetchone()[0]
    print(f"{src}: correspondences {before} -> {after} ({100.0 * after / max(1, before):.0f}%)")


if __name__ == "__main__":
    main()
