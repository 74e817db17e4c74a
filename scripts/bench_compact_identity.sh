#!/usr/bin/env bash
# The shipped compact weights give the same results with two builds of scalesfm (e.g. before and
# after a model or preprocessing change): SCFeat-compact features (keypoints and float
# descriptors), S2DNet-compact matches and ScaleNet/D-ScaleNet-compact scale estimates, each
# build with its own models/ folder (so changed weights files are compared with the originals).
# Usage: SCALESFM_BEFORE_BIN=old/build/cli/scalesfm SCALESFM_BEFORE_MODELS=old/models \
#        scripts/bench_compact_identity.sh [OUT]
#   SCALESFM_COMPARE_ONLY=1: compare the databases and estimates already in OUT.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/compact_identity}"
after="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
after_models="${SCALESFM_AFTER_MODELS:-$here/models}"
before="${SCALESFM_BEFORE_BIN:?set SCALESFM_BEFORE_BIN to the other build\'s scalesfm}"
before_models="${SCALESFM_BEFORE_MODELS:?set SCALESFM_BEFORE_MODELS to that build\'s models/}"
mkdir -p "$out"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
echo "after: $after (models $after_models, commit $(git -C "$here" rev-parse --short HEAD))"
echo "before: $before (models $before_models)"
compare_only="${SCALESFM_COMPARE_ONLY:-0}"
[ -d "$out/demo/images" ] || "$after" make_synthetic_scene --output_path "$out/demo" > /dev/null
zoom="$shared/data/strecha/castle-P19-zoom/images"
for build in before after; do
  [ "$compare_only" = 1 ] && break
  bin=$before; models=$before_models
  [ $build = after ] && bin=$after && models=$after_models
  rm -f "$out/$build".*.db
  # SCFeat-compact features on the demo scene and a -zoom scene.
  for scene in demo castle; do
    images="$out/demo/images"; [ $scene = castle ] && images="$zoom"
    SCALESFM_MODELS="$models" "$bin" feature_extractor --database_path "$out/$build.scfeat_$scene.db" \
      --image_path "$images" --Extraction.type scfeat --device cpu > "$out/$build.scfeat_$scene.log" 2>&1
  done
  # S2DNet-compact matching on SIFT features of the demo scene (the raw matches are compared).
  SCALESFM_MODELS="$models" "$bin" feature_extractor --database_path "$out/$build.s2dnet.db" \
    --image_path "$out/demo/images" > "$out/$build.s2dnet_extract.log" 2>&1
  SCALESFM_MODELS="$models" "$bin" exhaustive_matcher --database_path "$out/$build.s2dnet.db" \
    --image_path "$out/demo/images" --Matching.type s2dnet --device cpu \
    > "$out/$build.s2dnet_match.log" 2>&1
  # ScaleNet / D-ScaleNet compact on the homography pairs.
  SCALESFM_MODELS="$models" "$bin" eval_scale --homography_path "$shared/data/homography" \
    --estimators scalenet,dscalenet --device cpu --output_path "$out/$build.scale" \
    > "$out/$build.scale.log" 2>&1
done
/usr/bin/python3 - "$out" <<'EOF'
import csv, sqlite3, sys
import numpy as np
out = sys.argv[1]
def blobs(db, table, dtype, key="image_id"):
    con = sqlite3.connect(db)
    rows = con.execute("select %s, rows, data from %s where rows > 0 order by %s"
                       % (key, table, key)).fetchall()
    return {r[0]: np.frombuffer(r[2], dtype).reshape(r[1], -1) for r in rows}
print("| what | compared | max abs difference | identical |\n|---|---|---|---|")
for scene in ("demo", "castle"):
    for table, dtype in (("keypoints", np.float32), ("scalesfm_float_descriptors", np.float32)):
        b = blobs("%s/before.scfeat_%s.db" % (out, scene), table, dtype)
        a = blobs("%s/after.scfeat_%s.db" % (out, scene), table, dtype)
        same_shape = b.keys() == a.keys() and all(b[k].shape == a[k].shape for k in b)
        diff = max(float(np.abs(b[k] - a[k]).max()) for k in b) if same_shape else float("nan")
        n = sum(len(v) for v in b.values())
        print("| SCFeat-compact %s, %s | %d images, %d rows | %s | %s |"
              % (scene, table, len(b), n, "%.3g" % diff if same_shape else "shapes differ",
                 "yes" if same_shape and diff == 0 else "no"))
b = blobs(out + "/before.s2dnet.db", "matches", np.uint32, "pair_id")
a = blobs(out + "/after.s2dnet.db", "matches", np.uint32, "pair_id")
same = b.keys() == a.keys() and all(np.array_equal(b[k], a[k]) for k in b)
print("| S2DNet-compact raw matches, demo | %d pairs, %d matches | - | %s |"
      % (len(b), sum(len(v) for v in b.values()), "yes" if same else "no"))
def estimates(path):
    with open(path) as f:
        return {(r["estimator"], r["image1"], r["image2"]): float(r["estimate"])
                for r in csv.DictReader(f)}
b, a = estimates(out + "/before.scale/estimates.csv"), estimates(out + "/after.scale/estimates.csv")
for est in ("scalenet", "dscalenet"):
    keys = [k for k in b if k[0] == est]
    diff = max(abs(np.log2(b[k]) - np.log2(a[k])) for k in keys)
    print("| %s-compact estimates, homography pairs | %d pairs | %.3g (log2 s) | %s |"
          % (est, len(keys), diff, "yes" if diff == 0 else "no"))
EOF
