#!/usr/bin/env bash
# Issue 7 acceptance: S2DNet-compact sparse-to-dense matching.
#  1. eval_features on the 16 homography pairs: MMA@1-10 px of S2DNet (RootSIFT keypoints in A,
#     points found in B) vs SIFT-to-SIFT (OpenCV SIFT, our RootSIFT) and SCFeat, mutual NN;
#  2. matching time per pair on CPU at 1024 px and the memory peak (fountain-P11, 55 pairs,
#     single-level RootSIFT keypoints, no scale estimate; GNU time's maximum resident set);
#  3. eval_eth with 2048 features per image for every method (the IMC/ScaleNet protocol; S2DNet
#     costs grow with the keypoint count): scalesfm-s2dnet (base scenes) and
#     scalesfm-s2dnet-scale (-zoom scenes) vs our single-level SIFT pipeline (scalesfm-plain)
#     and stock COLMAP. SCALESFM_SCENES="fountain-P11 ..." picks the scenes (default: all four).
# Usage: scripts/bench_s2dnet.sh [OUTPUT_DIR] [parts: homography,time,base,zoom]
# SCALESFM_BASE_METHODS / SCALESFM_ZOOM_METHODS replace the eval_eth method lists (e.g. only the
# S2DNet row after a new model); SCALESFM_THREADS sets eval_eth's --num_threads.
# SCALESFM_INTRINSICS: eval_eth --intrinsics gt|exif|free (default gt, the mode of its tables).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/s2dnet}"
parts="${2:-homography,time,base,zoom}"
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
mkdir -p "$out"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)"

if [[ ",$parts," == *",homography,"* ]]; then
  "$bin" eval_features --homography_path "$shared/data/homography" \
    --output_path "$out/homography" --methods s2dnet,sift,rootsift,scfeat --Extraction.device cpu \
    --Extraction.max_image_size 1024
fi

if [[ ",$parts," == *",time,"* ]]; then
  rm -rf "$out/time" && mkdir -p "$out/time"
  images="$shared/data/strecha/fountain-P11/images"
  "$bin" feature_extractor --database_path "$out/time/database.db" --image_path "$images" \
    --Extraction.levels 1 --device cpu >"$out/time/extract.log" 2>&1
  /usr/bin/time -v "$bin" exhaustive_matcher --database_path "$out/time/database.db" \
    --image_path "$images" --Matching.type s2dnet --ScaleMatching.estimator none \
    --Matching.device cpu >"$out/time/match.log" 2>&1
  pairs=$(sed -n 's/.*Processed pairs \[\([0-9]*\)\/.*/\1/p' "$out/time/match.log" | tail -1)
  seconds=$(sed -n 's/^Elapsed time: \([0-9.]*\) \[minutes\].*/\1/p' "$out/time/match.log" | head -1)
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' "$out/time/match.log")
  awk -v p="$pairs" -v m="$seconds" -v r="$rss" 'BEGIN{printf "s2dnet matching: %d pairs in %.1f s: %.2f s per pair (1024 px, CPU); peak RSS %.0f MiB\n", p, m * 60, m * 60 / p, r / 1024}'
fi

scenes="${SCALESFM_SCENES:-fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19}"
if [[ ",$parts," == *",base,"* ]]; then
  args=()
  for scene in $scenes; do
    args+=(--dataset_path "$shared/data/strecha/$scene")
  done
  "$bin" eval_eth --intrinsics "${SCALESFM_INTRINSICS:-gt}" "${args[@]}" --output_path "$out/eth_base" --max_num_features 2048 \
    --methods "${SCALESFM_BASE_METHODS:-scalesfm-s2dnet,scalesfm-plain,colmap-default}" \
    --num_threads "${SCALESFM_THREADS:--1}"
fi

if [[ ",$parts," == *",zoom,"* ]]; then
  args=()
  for scene in $scenes; do
    args+=(--dataset_path "$shared/data/strecha/$scene-zoom")
  done
  "$bin" eval_eth --intrinsics "${SCALESFM_INTRINSICS:-gt}" "${args[@]}" --output_path "$out/eth_zoom" --max_num_features 2048 \
    --methods "${SCALESFM_ZOOM_METHODS:-scalesfm-s2dnet-scale,colmap-default}" \
    --num_threads "${SCALESFM_THREADS:--1}"
fi
