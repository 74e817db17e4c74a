#!/usr/bin/env bash
# Issue 4 acceptance: scale-estimation error E of dscalenet, scalenet and sift_vote on the 16
# homography pairs and on pairs of the four -zoom Strecha scenes (GT from covisible points
# triangulated with the GT poses), plus ScaleNet's CPU speed.
# Usage: scripts/bench_scale.sh [OUTPUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/scale}"
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
args=(--homography_path "$shared/data/homography")
# SCALESFM_SCENES=base runs the base scenes instead of the -zoom ones.
suffix="-zoom"
[ "${SCALESFM_SCENES:-zoom}" = base ] && suffix=""
for scene in fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19; do
  args+=(--scene_path "$shared/data/strecha/$scene$suffix")
done
"$bin" eval_scale "${args[@]}" --estimators dscalenet,scalenet,sift_vote --output_path "$out" \
  --device cpu
# Speed on CPU: a 1536x1024 Strecha image against its 4x-zoomed crop.
zoom="$shared/data/strecha/fountain-P11-zoom/images"
for estimator in scalenet sift_vote; do
  "$bin" estimate_scale --image1 "$zoom/0000_wide.jpg" --image2 "$zoom/0003_zoom4.jpg" \
    --ScaleMatching.estimator "$estimator" --device cpu --timing 20 | head -1
done
