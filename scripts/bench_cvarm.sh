#!/usr/bin/env bash
# Issue 29 acceptance: scale-estimation error E of cvarm beside scalenet, dscalenet, sift_vote and
# the trivial s = 1 (none), overall and binned by |log2 s|, on the 16 homography pairs and on the
# pairs of the four -zoom Strecha scenes (GT from covisible points triangulated with the GT poses),
# plus CVARM's CPU time per image and per pair with cached codes. The shipped weights are used
# (models/cvarm_compact.pt, models/scalenet_compact.pt); neither saw these scenes in training.
# Usage: scripts/bench_cvarm.sh [OUTPUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/cvarm}"
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
args=(--homography_path "$shared/data/homography")
for scene in fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19; do
  args+=(--scene_path "$shared/data/strecha/$scene-zoom")
done
"$bin" eval_scale "${args[@]}" --estimators "${SCALESFM_ESTIMATORS:-cvarm,scalenet,dscalenet,sift_vote,none}" \
  --output_path "$out" --device cpu
# Speed on CPU: a 1536x1024 wide shot against its 4x-zoomed crop.
zoom="$shared/data/strecha/fountain-P11-zoom/images"
for estimator in cvarm scalenet; do
  "$bin" estimate_scale --image1 "$zoom/0000_wide.jpg" --image2 "$zoom/0003_zoom4.jpg" \
    --ScaleMatching.estimator "$estimator" --device cpu --timing 20 | head -1
done
