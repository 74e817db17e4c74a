#!/usr/bin/env bash
# Mapping alone, with extra `colmap mapper` flags, on databases an eval_eth run left behind: one
# plain `colmap mapper` run per database and variant (GT intrinsics fixed, as eval_eth's gt mode),
# then the time, the bundle adjustment work (sum of residuals x iterations over every BA in the
# log, which does not depend on the machine's speed) and the pose accuracy against the GT.
# Used for issue 24's local BA cap (docs/BENCHMARKS.md, "Issue 24 (continued, 2026-12-07)").
#
# Usage: scripts/bench_mapper_options.sh EVAL_ETH_DIR METHOD OUT "SCENE..." VARIANT...
#   EVAL_ETH_DIR: an eval_eth output (with <scene>/<METHOD>-0/database.db) next to scenes/
#                 (bench_zoom_generalisation.sh's layout: OUT/eth and OUT/scenes).
#   VARIANT: name=flags, e.g. base= "loc10=--Mapper.ba_local_max_num_iterations 10"
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
eth="${1:?usage: bench_mapper_options.sh EVAL_ETH_DIR METHOD OUT \"SCENES\" VARIANT...}"
method="${2:?method}"
out="${3:?output dir}"
scenes="${4:?scenes}"
shift 4
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
colmap="${SCALESFM_COLMAP:-colmap}"
mkdir -p "$out"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); colmap: $colmap"
echo "| scene | variant | flags | mapping s | BA work (M residual-iterations) | registered | mAA@10 |"
echo "|---|---|---|---|---|---|---|"
for scene in $scenes; do
  db="$eth/$scene/$method-0/database.db"
  scene_dir="$eth/../scenes/$scene"
  for variant in "$@"; do
    name="${variant%%=*}"
    flags="${variant#*=}"
    dir="$out/$scene/$name"
    rm -rf "$dir"
    mkdir -p "$dir/sparse"
    cp "$db" "$dir/database.db"
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$colmap" mapper --database_path "$dir/database.db" --image_path "$scene_dir/images" \
      --output_path "$dir/sparse" --Mapper.num_threads -1 --Mapper.ba_refine_focal_length 0 \
      --Mapper.ba_refine_principal_point 0 --Mapper.ba_refine_extra_params 0 $flags \
      > "$dir/mapper.log" 2>&1 || true
    end=$(date +%s.%N)
    work=$(awk '/Residuals :/{r=$3} /Iterations :/{w+=r*$3} END{printf "%.2f", w/1e6}' "$dir/mapper.log")
    eval_out=$("$bin" evaluate_model --model_path "$dir/sparse" --gt_path "$scene_dir/gt" 2>&1 || true)
    registered=$(echo "$eval_out" | sed -n 's/.*Registered GT images: *\([0-9]* \/ [0-9]*\).*/\1/p')
    maa=$(echo "$eval_out" | sed -n 's/.*mAA@10: *\([0-9.]*\).*/\1/p')
    printf "| %s | %s | %s | %.1f | %s | %s | %s |\n" "$scene" "$name" "${flags:-(none)}" \
      "$(echo "$end - $start" | bc)" "$work" "${registered:-0}" "${maa:-0}"
  done
done
