#!/usr/bin/env bash
# Issue 2 acceptance: scalesfm's SIFT pipeline vs stock COLMAP 3.8 on the four base Strecha
# scenes, GT intrinsics fixed for both, same machine, same run.
# Usage: scripts/bench_foundation.sh [OUTPUT_DIR]   (results.{md,csv,json} land there)
# SCALESFM_INTRINSICS: eval_eth --intrinsics gt|exif|free (default gt, the mode of its tables).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/foundation}"
shift || true
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
args=()
for scene in fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19; do
  args+=(--dataset_path "$shared/data/strecha/$scene")
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
"$bin" eval_eth --intrinsics "${SCALESFM_INTRINSICS:-gt}" "${args[@]}" --output_path "$out" --methods scalesfm,colmap-default "$@"
