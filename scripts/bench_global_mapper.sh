#!/usr/bin/env bash
# Issue 32: mapping alone, on verified databases of a larger collection (the synthetic scaling
# scenes of scripts/bench_scaling.sh), with COLMAP 3.8's mapper, COLMAP 4's incremental mapper
# and COLMAP 4's global mapper (--Mapper.type global). Each run maps a fresh copy of the
# database with `scalesfm mapper` (scalesfm's restarts apply to the incremental runs), then
# evaluate_model scores the largest model against the scene's gt/.
#
# Usage: SCALESFM_COLMAP4=/path/to/colmap4 scripts/bench_global_mapper.sh OUT SCENE_DIR DB [DB ...]
# Environment: SCALESFM_COLMAP38 (default: colmap on PATH), SCALESFM_CONFIGS (default
#              colmap38 colmap4 colmap4-global), SCALESFM_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: bench_global_mapper.sh OUT SCENE_DIR DB [DB ...]}"
scene="${2:?scene folder with images/ and gt/}"
shift 2
c38="$(command -v "${SCALESFM_COLMAP38:-colmap}")"
c4="${SCALESFM_COLMAP4:?set SCALESFM_COLMAP4 to a COLMAP 4.x binary}"
configs="${SCALESFM_CONFIGS:-colmap38 colmap4 colmap4-global}"
mkdir -p "$out/bin"
cp "${SCALESFM_BIN:-$here/build/cli/scalesfm}" "$out/bin/scalesfm"
bin="$out/bin/scalesfm"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)"
echo "| database | COLMAP, mapper | images | registered | mAA@10 | points | mapping s |"
echo "|---|---|---|---|---|---|---|"
for db in "$@"; do
  name="$(basename "$(dirname "$db")")/$(basename "$db" .db)"
  for config in $configs; do
    case "$config" in
      colmap38) colmap="$c38"; type=incremental; label="3.8 incremental" ;;
      colmap4) colmap="$c4"; type=incremental; label="4.1.1 incremental" ;;
      colmap4-global) colmap="$c4"; type=global; label="4.1.1 global" ;;
      *) echo "unknown configuration $config" >&2; exit 2 ;;
    esac
    work="$out/${name//\//_}_$config"
    rm -rf "$work"
    mkdir -p "$work"
    cp "$db" "$work/database.db"
    t0=$(date +%s.%N)
    SCALESFM_COLMAP="$colmap" "$bin" mapper --database_path "$work/database.db" \
      --image_path "$scene/images" --output_path "$work/sparse" --Mapper.type "$type" \
      > "$work/map.log" 2>&1 || true
    t1=$(date +%s.%N)
    model="$(ls -d "$work"/sparse/[0-9]* 2>/dev/null | head -1 || true)"
    reg=0; maa=0; points=0
    if [ -n "$model" ]; then
      "$bin" evaluate_model --model_path "$model" --gt_path "$scene/gt" > "$work/eval.txt" 2>&1 || true
      reg="$(sed -n 's/.*Registered GT images: \([0-9]*\) .*/\1/p' "$work/eval.txt" | head -1)"
      maa="$(sed -n 's/.*mAA@10: \([0-9.]*\).*/\1/p' "$work/eval.txt" | head -1)"
      points="$(sed -n 's/^.*Points: *\([0-9]*\).*/\1/p' "$work/eval.txt" | head -1)"
    fi
    n="$(ls "$scene/images" | wc -l)"
    echo "| $name | $label | $n | $reg | $maa | $points | $(echo "$t1 - $t0" | bc) |"
  done
done
