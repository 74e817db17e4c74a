#!/usr/bin/env bash
# Issue 26: what the up-front checks cost. Times, median of REPS runs each:
#  - `exhaustive_matcher` on a copy of a fully matched DATABASE (every pair is done, so the run is
#    the consistency check plus opening and skipping) with this build and, when
#    SCALESFM_BEFORE_BIN is set, with an older one (no check);
#  - `estimate_scale --ScaleMatching.estimator scalenet` on two images of IMAGES (load with
#    sha256 + zip check, one estimate), both builds;
#  - `PRAGMA integrity_check` alone (sqlite3 CLI).
# Usage: [SCALESFM_BEFORE_BIN=old/scalesfm] scripts/bench_check_cost.sh DATABASE IMAGE_FOLDER [REPS (5)]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
db="$1"
images="$2"
reps="${3:-5}"
S="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); commit $(git -C "$here" rev-parse --short HEAD)"
echo "database: $db ($(du -h "$db" | cut -f1), $(sqlite3 "$db" 'select count(*) from images') images, $(sqlite3 "$db" 'select count(*) from matches') matched pairs)"
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
a=$(ls "$images" | sed -n 1p)
b=$(ls "$images" | sed -n 2p)
bins=("$S")
[ -n "${SCALESFM_BEFORE_BIN:-}" ] && bins+=("$SCALESFM_BEFORE_BIN")
# run_once KIND BIN: wall seconds of one run (the database freshly copied).
run_once() {
  cp "$db" "$work/run.db"
  local start end
  start=$(date +%s.%N)
  case $1 in
    matcher) "$2" exhaustive_matcher --database_path "$work/run.db" ;;
    scalenet) "$2" estimate_scale --image1 "$images/$a" --image2 "$images/$b" \
      --ScaleMatching.estimator scalenet --json ;;
    integrity) sqlite3 "$work/run.db" "PRAGMA integrity_check;" ;;
  esac > "$work/log" 2>&1 || { echo "$1 with $2 failed:" >&2; tail -3 "$work/log" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
# The builds alternate within each repetition, so that drift hits both alike.
for kind in matcher scalenet; do
  for rep in $(seq "$reps"); do
    for i in "${!bins[@]}"; do echo "$i $(run_once $kind "${bins[$i]}")"; done
  done > "$work/times"
  for i in "${!bins[@]}"; do
    tag=$([ "$i" = 0 ] && echo now || echo before)
    awk -v i="$i" '$1 == i {print $2}' "$work/times" | median |
      xargs printf "%-10s %-6s median %.3f s of $reps\n" "$kind" "$tag"
  done
done
for rep in $(seq "$reps"); do run_once integrity sqlite3; done | median |
  xargs printf "%-10s %-6s median %.3f s of $reps\n" "integrity" "sqlite3"
