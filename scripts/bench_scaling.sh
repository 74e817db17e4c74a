#!/usr/bin/env bash
# Issue 27's scaling benchmark: time per stage and peak memory against the number of images N,
# for exhaustive, vocab-tree (k = 10, 20) and sequential pairing; scalesfm and stock COLMAP's
# equivalents in the same run, on the same synthetic collections (make_synthetic_scene: N cameras
# on an arc, every fifth one zoomed in 4x, 480x360, GT poses).
#   - Exhaustive matching runs up to N = SCALESFM_EXHAUSTIVE_MAX (default 100); beyond it,
#     scripts/summarise_scaling.py extrapolates from the measured per-pair cost and says so.
#   - Mapping (colmap mapper) and pose accuracy (evaluate_model) run up to SCALESFM_MAP_MAX.
#   - Vocabularies are built once per collection and tool (scalesfm vocab_tree_builder, 4096
#     words; colmap vocab_tree_builder, 4096 words) and timed as their own stage.
# Writes OUT/results.csv (one line per stage) and OUT/report.md + OUT/scaling.svg via
# scripts/summarise_scaling.py.
#
# A rerun resumes: stages already in results.csv are skipped.
#
# Usage: scripts/bench_scaling.sh [OUT]   Environment: SCALESFM_SCALING_NS (default "50 100 200 400"),
#        SCALESFM_EXHAUSTIVE_MAX (100), SCALESFM_MAP_MAX (100), SCALESFM_TOOLS ("scalesfm colmap"),
#        SCALESFM_PAIRINGS ("exhaustive vocab10 vocab20 sequential"; exhaustive only up to
#        SCALESFM_EXHAUSTIVE_MAX), SCALESFM_MAP_PAIRINGS (pairings that are mapped; default all),
#        SCALESFM_BIN, SCALESFM_COLMAP.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/bench_out/scaling}"
ns="${SCALESFM_SCALING_NS:-50 100 200 400}"
exh_max="${SCALESFM_EXHAUSTIVE_MAX:-100}"
map_max="${SCALESFM_MAP_MAX:-100}"
tools="${SCALESFM_TOOLS:-scalesfm colmap}"
all_pairings="${SCALESFM_PAIRINGS:-exhaustive vocab10 vocab20 sequential}"
map_pairings="${SCALESFM_MAP_PAIRINGS:-$all_pairings}"
colmap="${SCALESFM_COLMAP:-colmap}"
mkdir -p "$out/bin"
cp "${SCALESFM_BIN:-$here/build/cli/scalesfm}" "$out/bin/scalesfm"
bin="$out/bin/scalesfm"
csv="$out/results.csv"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet || echo '+dirty')"
[ -f "$csv" ] || echo "n,tool,pairing,stage,seconds,peak_mib,pairs,registered,maa10" > "$csv"

# timed N TOOL PAIRING STAGE LOG cmd...: runs cmd under GNU time, appends a CSV line.
timed() {
  local n=$1 tool=$2 pairing=$3 stage=$4 log=$5; shift 5
  if grep -q "^$n,$tool,$pairing,$stage," "$csv"; then return 0; fi  # done in an earlier run
  /usr/bin/time -f "%e %M" -o "$log.time" "$@" > "$log" 2>&1 || { echo "FAILED: $* (see $log)"; exit 1; }
  read -r secs kib < "$log.time"
  echo "$n,$tool,$pairing,$stage,$secs,$((kib / 1024)),,," >> "$csv"
  echo "  N=$n $tool $pairing $stage: ${secs}s, $((kib / 1024)) MiB"
}
num_pairs() { sqlite3 "$1" "SELECT count(*) FROM matches"; }

for n in $ns; do
  d="$out/n$n"
  echo "== N = $n"
  if [ ! -d "$d/scene/images" ]; then
    "$bin" make_synthetic_scene --output_path "$d/scene" --num_cameras "$n" --num_zoomed $((n / 5)) \
      --zoom 4 --width 480 --height 360 --focal 400 > "$d.render.log" 2>&1
  fi
  mkdir -p "$d"
  if [[ " $tools " == *" scalesfm "* ]]; then
    timed "$n" scalesfm - extraction "$d/ours_extract.log" \
      "$bin" feature_extractor --database_path "$d/ours.db" --image_path "$d/scene/images"
    [[ "$all_pairings" == *vocab* ]] && timed "$n" scalesfm vocab index "$d/ours_vocab.log" \
      "$bin" vocab_tree_builder --database_path "$d/ours.db" --vocab_tree_path "$d/ours_vocab.bin"
  fi
  if [[ " $tools " == *" colmap "* ]]; then
    timed "$n" colmap - extraction "$d/stock_extract.log" \
      "$colmap" feature_extractor --database_path "$d/stock.db" --image_path "$d/scene/images" \
      --SiftExtraction.use_gpu 0
    [[ "$all_pairings" == *vocab* ]] && timed "$n" colmap vocab index "$d/stock_vocab.log" \
      "$colmap" vocab_tree_builder --database_path "$d/stock.db" \
      --vocab_tree_path "$d/stock_vocab.bin" --num_visual_words 4096
  fi

  pairings=""
  for p in $all_pairings; do
    [ "$p" = exhaustive ] && [ "$n" -gt "$exh_max" ] && continue
    pairings="$pairings $p"
  done
  for p in $pairings; do
    for tool in $tools; do
      db="$d/${tool}_$p.db"
      if ! grep -q "^$n,$tool,$p,matching," "$csv"; then
        rm -f "$db"
        cp "$d/$([ $tool = scalesfm ] && echo ours || echo stock).db" "$db"
      fi
      case "$tool:$p" in
        scalesfm:exhaustive) cmd=("$bin" exhaustive_matcher --database_path "$db") ;;
        scalesfm:vocab*) cmd=("$bin" vocab_tree_matcher --database_path "$db"
                              --VocabTreeMatching.num_images "${p#vocab}"
                              --VocabTreeMatching.vocab_tree_path "$d/ours_vocab.bin") ;;
        scalesfm:sequential) cmd=("$bin" sequential_matcher --database_path "$db") ;;
        colmap:exhaustive) cmd=("$colmap" exhaustive_matcher --database_path "$db" --SiftMatching.use_gpu 0) ;;
        colmap:vocab*) cmd=("$colmap" vocab_tree_matcher --database_path "$db" --SiftMatching.use_gpu 0
                            --VocabTreeMatching.num_images "${p#vocab}"
                            --VocabTreeMatching.vocab_tree_path "$d/stock_vocab.bin") ;;
        colmap:sequential) cmd=("$colmap" sequential_matcher --database_path "$db" --SiftMatching.use_gpu 0) ;;
      esac
      timed "$n" "$tool" "$p" matching "$d/${tool}_$p.match.log" "${cmd[@]}"
      if grep -q "^$n,$tool,$p,matching,[^,]*,[^,]*,," "$csv"; then
        pairs=$(num_pairs "$db")
        sed -i "s/^\($n,$tool,$p,matching,[^,]*,[^,]*\),,,$/\1,$pairs,,/" "$csv"
      fi
      if [ "$n" -le "$map_max" ] && [[ " $map_pairings " == *" $p "* ]]; then
        mkdir -p "$d/${tool}_$p.sparse"
        timed "$n" "$tool" "$p" mapping "$d/${tool}_$p.map.log" \
          "$colmap" mapper --database_path "$db" --image_path "$d/scene/images" \
          --output_path "$d/${tool}_$p.sparse"
        if grep -q "^$n,$tool,$p,mapping,[^,]*,[^,]*,,,$" "$csv"; then
          model="$(ls -d "$d/${tool}_$p.sparse"/*/ 2>/dev/null | head -1)"
          if [ -n "$model" ]; then
            "$bin" evaluate_model --model_path "$d/${tool}_$p.sparse" --gt_path "$d/scene/gt" > "$d/${tool}_$p.eval.log" 2>&1 || true
          fi
          reg=$(sed -n 's/.*Registered images: *\([0-9]*\).*/\1/p' "$d/${tool}_$p.eval.log" 2>/dev/null | head -1)
          maa=$(sed -n 's/.*mAA@10[^0-9]*\([0-9.]*\).*/\1/p' "$d/${tool}_$p.eval.log" 2>/dev/null | head -1)
          sed -i "s/^\($n,$tool,$p,mapping,[^,]*,[^,]*\),,,$/\1,,${reg:-0},${maa:-0}/" "$csv"
        fi
      fi
    done
  done
done
python3 "$here/scripts/summarise_scaling.py" "$csv" "$out"
