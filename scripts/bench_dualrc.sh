#!/usr/bin/env bash
# Issue 28 acceptance: DualRC-Net dense matching (`--Matching.type dualrc`), compact model.
#  1. homography: eval_features on the 16 homography pairs, MMA@1-10 px (original pixels) of
#     DualRC-Net (both images at --Matching.dualrc_max_image_size; and at their SDAIM levels for
#     the GT scale) vs SIFT, RootSIFT, S2DNet and SCFeat (those at 1024 px);
#  2. time: matching time and peak memory (GNU time's maximum resident set) per pair on the CPU,
#     at 512 px (the default) and at 1024 px, on 6 fountain-P11 pairs (1536x1024 images), with
#     COLMAP's own SIFT matching of the same pairs in the same run;
#  3. base / zoom: eval_eth (GT intrinsics) on the four Strecha scenes / their -zoom versions:
#     scalesfm-dualrc (base) and scalesfm-dualrc-scale (-zoom: sift_vote + SDAIM levels) vs our
#     SIFT default (scalesfm) and stock COLMAP (colmap-default).
# Usage: scripts/bench_dualrc.sh [OUTPUT_DIR] [parts: homography,time,base,zoom]
# SCALESFM_SCENES="fountain-P11 ..." picks the scenes (default: all four);
# SCALESFM_BASE_METHODS / SCALESFM_ZOOM_METHODS replace the eval_eth method lists.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/dualrc_bench}"
parts="${2:-homography,time,base,zoom}"
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
colmap="${SCALESFM_COLMAP:-colmap}"
mkdir -p "$out"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)"

if [[ ",$parts," == *",homography,"* ]]; then
  "$bin" eval_features --homography_path "$shared/data/homography" \
    --output_path "$out/homography" --methods dualrc,dualrc-gt-scale,sift,rootsift,s2dnet,scfeat \
    --Extraction.device cpu --Extraction.max_image_size 1024
fi

# Seconds and MiB of a GNU time -v log.
time_of() {
  awk -F': ' '/Elapsed \(wall clock\) time/{n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$1"
}
rss_of() { sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' "$1" | awk '{printf "%.0f", $1/1024}'; }

if [[ ",$parts," == *",time,"* ]]; then
  rm -rf "$out/time" && mkdir -p "$out/time"
  images="$shared/data/strecha/fountain-P11/images"
  printf '0000.jpg 0001.jpg\n0001.jpg 0002.jpg\n0003.jpg 0004.jpg\n0005.jpg 0006.jpg\n0007.jpg 0008.jpg\n0009.jpg 0010.jpg\n' >"$out/time/pairs.txt"
  npairs=$(wc -l <"$out/time/pairs.txt")
  "$bin" feature_extractor --database_path "$out/time/base.db" --image_path "$images" \
    --Extraction.levels 1 --device cpu >"$out/time/extract.log" 2>&1
  for size in 512 1024; do
    cp "$out/time/base.db" "$out/time/dualrc$size.db"
    /usr/bin/time -v "$bin" exhaustive_matcher --database_path "$out/time/dualrc$size.db" \
      --image_path "$images" --Matching.type dualrc --ScaleMatching.estimator none \
      --Matching.dualrc_max_image_size "$size" --Matching.pair_list "$out/time/pairs.txt" \
      --Matching.device cpu >"$out/time/dualrc$size.log" 2>&1
    awk -v p="$npairs" -v s="$(time_of "$out/time/dualrc$size.log")" -v r="$(rss_of "$out/time/dualrc$size.log")" -v z="$size" \
      'BEGIN{printf "dualrc %d px: %d pairs in %.1f s, %.2f s per pair (process start and model load included); peak RSS %d MiB\n", z, p, s, s / p, r}'
  done
  # COLMAP's SIFT (extraction and matching of the same pairs, CPU), in the same run.
  "$colmap" feature_extractor --database_path "$out/time/colmap.db" --image_path "$images" \
    --SiftExtraction.use_gpu 0 >"$out/time/colmap_extract.log" 2>&1
  /usr/bin/time -v "$colmap" matches_importer --database_path "$out/time/colmap.db" \
    --match_list_path "$out/time/pairs.txt" --match_type pairs --SiftMatching.use_gpu 0 \
    >"$out/time/colmap_match.log" 2>&1
  awk -v p="$npairs" -v s="$(time_of "$out/time/colmap_match.log")" -v r="$(rss_of "$out/time/colmap_match.log")" \
    'BEGIN{printf "colmap SIFT matching + verification: %d pairs in %.1f s, %.2f s per pair; peak RSS %d MiB\n", p, s, s / p, r}'
fi

scenes="${SCALESFM_SCENES:-fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19}"
if [[ ",$parts," == *",base,"* ]]; then
  args=()
  for scene in $scenes; do args+=(--dataset_path "$shared/data/strecha/$scene"); done
  "$bin" eval_eth --intrinsics gt "${args[@]}" --output_path "$out/eth_base" \
    --methods "${SCALESFM_BASE_METHODS:-scalesfm-dualrc,scalesfm,colmap-default}"
fi

if [[ ",$parts," == *",zoom,"* ]]; then
  args=()
  for scene in $scenes; do args+=(--dataset_path "$shared/data/strecha/$scene-zoom"); done
  "$bin" eval_eth --intrinsics gt "${args[@]}" --output_path "$out/eth_zoom" \
    --methods "${SCALESFM_ZOOM_METHODS:-scalesfm-dualrc-scale,scalesfm,colmap-default}"
fi
