#!/usr/bin/env bash
# Issue 32: the same runs with Debian's COLMAP 3.8 and with a COLMAP 4.x binary, whose mappers
# are the incremental one and the global one (GLOMAP, --Mapper.type global).
#   eth:  eval_eth, methods colmap-default and scalesfm, GT intrinsics fixed (the default);
#   auto: scalesfm automatic_reconstructor, then evaluate_model against gt/;
#   imc:  eval_imc (free intrinsics, IMC 2020's multiview setting), bags of 5.
# Each configuration uses one copy of the scalesfm binary; nothing else runs beside it.
#
# Usage: SCALESFM_COLMAP4=/path/to/colmap4 scripts/bench_colmap_versions.sh [OUTPUT_DIR]
# Environment: SCALESFM_COLMAP38 (default: colmap on PATH), SCALESFM_SCENES (eval_eth scenes),
#              SCALESFM_AUTO_SCENES, SCALESFM_IMC_SCENES, SCALESFM_PARTS (eth auto imc),
#              SCALESFM_CONFIGS (colmap38 colmap4 colmap4-global), SCALESFM_BIN.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/colmap_versions}"
c38="$(command -v "${SCALESFM_COLMAP38:-colmap}")"
c4="${SCALESFM_COLMAP4:?set SCALESFM_COLMAP4 to a COLMAP 4.x binary}"
scenes="${SCALESFM_SCENES:-fountain-P11 fountain-P11-zoom Herz-Jesus-P8-zoom entry-P10-zoom castle-P19-zoom}"
auto_scenes="${SCALESFM_AUTO_SCENES:-fountain-P11 fountain-P11-zoom}"
imc_scenes="${SCALESFM_IMC_SCENES:-fountain-P11 fountain-P11-zoom}"
parts="${SCALESFM_PARTS:-eth auto imc}"
configs="${SCALESFM_CONFIGS:-colmap38 colmap4 colmap4-global}"
mkdir -p "$out/bin"
cp "${SCALESFM_BIN:-$here/build/cli/scalesfm}" "$out/bin/scalesfm"
bin="$out/bin/scalesfm"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet || echo '+dirty')"
echo "COLMAP 3.8: $c38 ($("$c38" help | head -1))"
echo "COLMAP 4:   $c4 ($("$c4" help | head -1))"
data() { for s in $1; do printf -- '--dataset_path %s ' "$shared/data/strecha/$s"; done; }
for config in $configs; do
  case "$config" in
    colmap38) colmap="$c38"; type=incremental ;;
    colmap4) colmap="$c4"; type=incremental ;;
    colmap4-global) colmap="$c4"; type=global ;;
    *) echo "unknown configuration $config" >&2; exit 2 ;;
  esac
  dir="$out/$config"
  mkdir -p "$dir"
  for part in $parts; do
    start=$(date +%s.%N)
    case "$part" in
      eth)
        # shellcheck disable=SC2046
        SCALESFM_COLMAP="$colmap" "$bin" eval_eth $(data "$scenes") --methods colmap-default,scalesfm \
          --Mapper.type "$type" --output_path "$dir/eth" > "$dir/eth.log" 2>&1 ;;
      auto)
        for s in $auto_scenes; do
          ws="$dir/auto/$s"
          rm -rf "$ws"
          mkdir -p "$dir/auto"
          t0=$(date +%s.%N)
          SCALESFM_COLMAP="$colmap" "$bin" automatic_reconstructor --image_path "$shared/data/strecha/$s/images" \
            --workspace_path "$ws" --Mapper.type "$type" > "$ws.log" 2>&1
          t1=$(date +%s.%N)
          echo "$s total_s $(echo "$t1 - $t0" | bc)" >> "$dir/auto/times.txt"
          "$bin" evaluate_model --model_path "$ws/sparse/0" --gt_path "$shared/data/strecha/$s/gt" \
            > "$ws.eval.txt" 2>&1 || true
        done ;;
      imc)
        # shellcheck disable=SC2046
        SCALESFM_COLMAP="$colmap" "$bin" eval_imc $(data "$imc_scenes") --methods colmap-default,scalesfm \
          --bag_sizes 5 --bag_counts 10 --stereo 0 --Mapper.type "$type" --output_path "$dir/imc" \
          > "$dir/imc.log" 2>&1 ;;
    esac
    echo "$config $part: $(echo "$(date +%s.%N) - $start" | bc) s"
  done
done
