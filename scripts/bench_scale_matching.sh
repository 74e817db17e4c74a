#!/usr/bin/env bash
# Issue 5 acceptance: scale-aware matching (scalesfm defaults: levels auto + sift_vote), its
# single-level variant (scalesfm-plain) and stock COLMAP 3.8 in the same run, GT intrinsics
# fixed for every method.
# Usage: scripts/bench_scale_matching.sh zoom|base|zoom2048 [OUTPUT_DIR] [extra eval_eth flags]
# SCALESFM_INTRINSICS: eval_eth --intrinsics gt|exif|free (default gt, the mode of its tables).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
set_name="${1:?usage: bench_scale_matching.sh zoom|base|zoom2048 [OUTPUT_DIR]}"
out="${2:-$here/bench_out/scale_matching_$set_name}"
shift $(( $# >= 2 ? 2 : 1 ))
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
suffix="-zoom"
methods="colmap-default,scalesfm,scalesfm-plain"
extra=()
case "$set_name" in
  zoom) ;;
  zoom2048) extra=(--max_num_features 2048) ;;
  base) suffix=""; methods="colmap-default,scalesfm" ;;
  *) echo "unknown set '$set_name' (zoom, zoom2048, base)" >&2; exit 2 ;;
esac
methods="${SCALESFM_METHODS:-$methods}"  # e.g. colmap-default,scalesfm,scalesfm-guided
args=()
for scene in fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19; do
  args+=(--dataset_path "$shared/data/strecha/$scene$suffix")
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)"
"$bin" eval_eth --intrinsics "${SCALESFM_INTRINSICS:-gt}" "${args[@]}" --output_path "$out" --methods "$methods" "${extra[@]}" "$@"
