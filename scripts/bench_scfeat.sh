#!/usr/bin/env bash
# Issue 6 acceptance: SCFeat-compact vs SIFT.
#  1. eval_features on the 16 homography pairs: MMA@1-10 px, MMA score (eq. 24), features and
#     mutual-NN matches for scfeat, OpenCV SIFT (L2) and our RootSIFT;
#  2. CPU extraction time per 1536x1024 image (fountain-P11) for compact, and for the paper
#     config (random weights: architecture cost only);
#  3. eval_eth on the four base Strecha scenes: scalesfm-scfeat vs stock COLMAP;
#  4. eval_eth on the four -zoom scenes: SCFeat single level, SCFeat + SDAIM re-extraction at
#     sift_vote's scale (scalesfm-scfeat-sdaim), and stock COLMAP.
# Usage: scripts/bench_scfeat.sh [OUTPUT_DIR] [parts: homography,time,base,zoom]
# SCALESFM_THREADS sets eval_eth's --num_threads (default: all cores).
# SCALESFM_INTRINSICS: eval_eth --intrinsics gt|exif|free (default gt, the mode of its tables).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/scfeat}"
parts="${2:-homography,time,base}"
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
mkdir -p "$out"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)"

if [[ ",$parts," == *",homography,"* ]]; then
  "$bin" eval_features --homography_path "$shared/data/homography" --output_path "$out/homography" \
    --device cpu
fi

# Extraction time: the pipeline's own wall time over fountain-P11's 11 images (1536x1024).
time_extraction() {  # config weights images
  rm -rf "$out/time_$1"
  mkdir -p "$out/time_$1"
  local start end n
  n=$(ls "$3" | wc -l)
  start=$(date +%s.%N)
  "$bin" feature_extractor --database_path "$out/time_$1/database.db" --image_path "$3" \
    --Extraction.type scfeat --Extraction.scfeat_weights "$2" --device cpu >"$out/time_$1/log" 2>&1
  end=$(date +%s.%N)
  echo "scfeat $1: $(awk -v s="$start" -v e="$end" -v n="$n" 'BEGIN{printf "%.2f", (e - s) / n}') s per 1536x1024 image ($n images, CPU, load included)"
}
if [[ ",$parts," == *",time,"* ]]; then
  time_extraction compact "$here/models/scfeat_compact.pt" "$shared/data/strecha/fountain-P11/images"
  # Paper config: random weights written by one training iteration; two images are enough.
  if [ ! -f "$out/scfeat_paper_random.pt" ]; then
    "$bin" train_scfeat --data_path "$shared/data/train" --output_path "$out/scfeat_paper_random.pt" \
      --config paper --description_iterations 1 --detection_iterations 0 --validation_pairs 2 \
      --image_size 64 >"$out/paper_random.log" 2>&1
  fi
  mkdir -p "$out/paper_images"
  for f in $(ls "$shared/data/strecha/fountain-P11/images" | head -2); do
    ln -sf "$shared/data/strecha/fountain-P11/images/$f" "$out/paper_images/$f"
  done
  time_extraction paper "$out/scfeat_paper_random.pt" "$out/paper_images"
fi

if [[ ",$parts," == *",base,"* ]]; then
  args=()
  for scene in fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19; do
    args+=(--dataset_path "$shared/data/strecha/$scene")
  done
  "$bin" eval_eth --intrinsics "${SCALESFM_INTRINSICS:-gt}" "${args[@]}" --output_path "$out/eth_base" --methods scalesfm-scfeat,colmap-default \
    --num_threads "${SCALESFM_THREADS:--1}"
fi

if [[ ",$parts," == *",zoom,"* ]]; then
  args=()
  for scene in fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19; do
    args+=(--dataset_path "$shared/data/strecha/$scene-zoom")
  done
  "$bin" eval_eth --intrinsics "${SCALESFM_INTRINSICS:-gt}" "${args[@]}" --output_path "$out/eth_zoom" \
    --methods scalesfm-scfeat,scalesfm-scfeat-sdaim,colmap-default --num_threads "${SCALESFM_THREADS:--1}"
fi
