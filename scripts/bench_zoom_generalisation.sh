#!/usr/bin/env bash
# Issue 24's development protocol: does scale-aware matching generalise beyond the scenes it was
# tuned on? Zoom scenes are generated with `scalesfm make_zoom_scene` from every posed base scene
# (the four Strecha scenes and the three posed realworld scenes), six seeds each, and split once:
#   tune     = seeds 0 2 4   (look at these while changing anything)
#   validate = seeds 1 3 5   (report these; a default changes only when it wins here)
# `base` runs the base scenes themselves (no loss allowed there).
# Every method runs in the same eval_eth call, on one copy of the binary (so rebuilding during a
# run changes nothing), in one intrinsics mode (eval_eth --intrinsics: gt fixed, exif, free).
#
# Usage: scripts/bench_zoom_generalisation.sh tune|validate|base [OUTPUT_DIR] [extra eval_eth flags]
# Environment: SCALESFM_METHODS (default colmap-default,scalesfm), SCALESFM_ZOOM_MODEL (optical;
#              crop: issue 24's scenes), SCALESFM_INTRINSICS (gt | exif | free; default gt),
#              SCALESFM_EXIF_FOCAL_ERROR (make_zoom_scene --exif_focal_error, default 0),
#              SCALESFM_SCENES (default: all seven base scenes), SCALESFM_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
half="${1:?usage: bench_zoom_generalisation.sh tune|validate|base [OUTPUT_DIR] [eval_eth flags]}"
out="${2:-$here/bench_out/zoom_generalisation_$half}"
shift $(( $# >= 2 ? 2 : 1 ))
case "$half" in
  tune) seeds="0 2 4" ;;
  validate) seeds="1 3 5" ;;
  base) seeds="" ;;
  *) echo "unknown half '$half' (tune, validate, base)" >&2; exit 2 ;;
esac
methods="${SCALESFM_METHODS:-colmap-default,scalesfm}"
zoom_model="${SCALESFM_ZOOM_MODEL:-optical}"
intrinsics="${SCALESFM_INTRINSICS:-gt}"
focal_error="${SCALESFM_EXIF_FOCAL_ERROR:-0}"
scenes="${SCALESFM_SCENES:-fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19 statue sacre_coeur british_museum}"

mkdir -p "$out/bin"
cp "${SCALESFM_BIN:-$here/build/cli/scalesfm}" "$out/bin/scalesfm"
bin="$out/bin/scalesfm"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet || echo '+dirty')"
echo "half: $half (seeds: ${seeds:-none}), zoom model: $zoom_model, intrinsics: $intrinsics" \
  "(EXIF focal error $focal_error), methods: $methods"

base_path() {
  if [ -d "$shared/data/strecha/$1" ]; then echo "$shared/data/strecha/$1"
  elif [ -d "$shared/data/realworld/$1" ]; then echo "$shared/data/realworld/$1"
  else echo "no base scene '$1' under $shared/data" >&2; exit 2
  fi
}

args=()
for scene in $scenes; do
  src="$(base_path "$scene")"
  if [ "$half" = base ]; then args+=(--dataset_path "$src"); continue; fi
  for seed in $seeds; do
    dst="$out/scenes/$scene-zoom-s$seed"
    # Generated once; a re-run reuses a scene made with the same zoom model and EXIF error
    # (make_zoom_scene renames complete folders into place, and replaces one made otherwise).
    if ! grep -q -- "--zoom_model $zoom_model --exif_focal_error $focal_error\$" \
      "$dst/zoom_scene.txt" 2>/dev/null; then
      "$bin" make_zoom_scene --scene_path "$src" --output_path "$dst" --seed "$seed" \
        --zoom_model "$zoom_model" --exif_focal_error "$focal_error" \
        --triangulation_path "$out/triangulation/$scene" \
        > "$out/make_zoom_scene.log" 2>&1 || { tail -20 "$out/make_zoom_scene.log"; exit 1; }
    fi
    args+=(--dataset_path "$dst")
  done
done

[ ${#args[@]} -gt 0 ] || { echo "no scenes (SCALESFM_SCENES is empty)" >&2; exit 2; }
"$bin" eval_eth "${args[@]}" --output_path "$out/eth" --methods "$methods" \
  --intrinsics "$intrinsics" "$@"
summarise=(python3 "$here/scripts/summarise_zoom_generalisation.py")
[ "$half" = base ] && summarise+=(--base)
"${summarise[@]}" "$out/eth/results.json" \
  | tee "$out/summary.md"
