#!/usr/bin/env bash
# Issue 3 acceptance: eval_eth three times on the four base and four -zoom Strecha scenes,
# scalesfm and stock COLMAP alike; results.md ends with the repeatability table (registration
# counts equal, mAA@10 spread <= 0.02).
# Usage: scripts/bench_repeatability.sh [OUTPUT_DIR] [extra eval_eth flags]
# SCALESFM_INTRINSICS: eval_eth --intrinsics gt|exif|free (default gt, the mode of its tables).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/repeatability}"
shift || true
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
args=()
for scene in fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19; do
  args+=(--dataset_path "$shared/data/strecha/$scene" --dataset_path "$shared/data/strecha/$scene-zoom")
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)"
"$bin" eval_eth --intrinsics "${SCALESFM_INTRINSICS:-gt}" "${args[@]}" --output_path "$out" --methods scalesfm,colmap-default \
  --repetitions 3 "$@"
