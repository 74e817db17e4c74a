#!/usr/bin/env bash
# Issue 26: what the up-front checks cost. Times, median of REPS runs each:
#  - `exhaustive_matcher` on a copy of a fully matched DATABASE (every pair is done, so the run is
#    the consistency check plus opening and skipping) with this build and, when
#    SCALESFM_BEFORE_BIN is set, with an older one (no check);
#  - `estimate_scale --ScaleMatching.estimator scalenet` on two images of IMAGES (load with
#    sha256 + zip check, one estimate), both builds;
#  - `PRAGMA integrity_check` alone (sqlite3 CLI).
# Usage: scripts/bench_check_cost.sh DATABASE IMAGE_FOLDER [REPS (5)]
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
# time_cmd LABEL COMMAND...: median wall seconds of REPS runs (each on a fresh copy of the db).
time_cmd() {
  local label=$1
  shift
  for _ in $(seq "$reps"); do
    cp "$db" "$work/run.db"
    local start end
    start=$(date +%s.%N)
    "$@" > "$work/log" 2>&1 || { echo "$label failed:"; tail -3 "$work/log"; exit 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc
  done | median | xargs printf "%-60s %.3f s\n" "$label"
}
a=$(ls "$images" | sed -n 1p)
b=$(ls "$images" | sed -n 2p)
for bin in "$S" ${SCALESFM_BEFORE_BIN:+"$SCALESFM_BEFORE_BIN"}; do
  tag=$([ "$bin" = "$S" ] && echo now || echo before)
  time_cmd "exhaustive_matcher, all pairs done ($tag)" "$bin" exhaustive_matcher \
    --database_path "$work/run.db"
  time_cmd "estimate_scale scalenet ($tag)" "$bin" estimate_scale --image1 "$images/$a" \
    --image2 "$images/$b" --ScaleMatching.estimator scalenet --json
done
time_cmd "sqlite3 PRAGMA integrity_check" sqlite3 "$work/run.db" "PRAGMA integrity_check;"
