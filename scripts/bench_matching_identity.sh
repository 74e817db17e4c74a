#!/usr/bin/env bash
# Architecture issue acceptance: the default pipeline's database is the same, table by table,
# with two builds of scalesfm (e.g. before and after a refactor), and what each build's matching
# costs, with stock COLMAP's exhaustive_matcher on the same images for scale.
# Each scene is extracted once (by the newer build); both builds then match copies of that
# database with no flags, so the comparison covers matching, verification and guided matching.
# Usage: SCALESFM_BEFORE_BIN=path/to/old/scalesfm scripts/bench_matching_identity.sh [OUT] [SCENES]
#   SCENES: names under ../shared/data/strecha, or "demo" (make_synthetic_scene's defaults);
#   default "demo fountain-P11 castle-P19-zoom".
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/matching_identity}"
scenes="${2:-demo fountain-P11 castle-P19-zoom}"
after="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
before="${SCALESFM_BEFORE_BIN:?set SCALESFM_BEFORE_BIN to the other build\'s scalesfm}"
colmap="${SCALESFM_COLMAP:-colmap}"
mkdir -p "$out"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD); before: $before"
digest() {  # digest DB TABLE
  sqlite3 "$1" "select * from $2 order by 1,2" | md5sum | cut -c1-16
}
seconds() { date +%s.%N; }
printf "| scene | table | rows | before | after | same |\n|---|---|---|---|---|---|\n" > "$out/digests.md"
printf "| scene | matching before (s) | matching after (s) | after / before | stock colmap exhaustive_matcher (s) |\n|---|---|---|---|---|\n" > "$out/times.md"
for scene in $scenes; do
  if [ "$scene" = demo ]; then
    images="$out/demo/images"
    [ -d "$images" ] || "$after" make_synthetic_scene --output_path "$out/demo" > /dev/null
  else
    images="$shared/data/strecha/$scene/images"
  fi
  base="$out/$scene.extracted.db"
  rm -f "$base" "$out/$scene".{before,after,colmap}.db
  "$after" feature_extractor --database_path "$base" --image_path "$images" > "$out/$scene.extract.log" 2>&1
  declare -A took
  for build in before after; do
    cp "$base" "$out/$scene.$build.db"
    bin=$before; [ $build = after ] && bin=$after
    t0=$(seconds)
    "$bin" exhaustive_matcher --database_path "$out/$scene.$build.db" --image_path "$images" \
      > "$out/$scene.$build.log" 2>&1
    took[$build]=$(awk -v a="$(seconds)" -v b="$t0" 'BEGIN{print a - b}')
  done
  "$colmap" feature_extractor --database_path "$out/$scene.colmap.db" --image_path "$images" \
    --SiftExtraction.use_gpu 0 > "$out/$scene.colmap.log" 2>&1
  t0=$(seconds)
  "$colmap" exhaustive_matcher --database_path "$out/$scene.colmap.db" --SiftMatching.use_gpu 0 \
    >> "$out/$scene.colmap.log" 2>&1
  took[colmap]=$(awk -v a="$(seconds)" -v b="$t0" 'BEGIN{print a - b}')
  for t in keypoints descriptors matches two_view_geometries scalesfm_pair_scales \
           scalesfm_guided_pairs scalesfm_feature_levels; do
    b=$(digest "$out/$scene.before.db" $t); a=$(digest "$out/$scene.after.db" $t)
    rows=$(sqlite3 "$out/$scene.after.db" "select count(*) from $t")
    same=no; [ "$a" = "$b" ] && same=yes
    echo "| $scene | $t | $rows | $b | $a | $same |" >> "$out/digests.md"
  done
  printf "| %s | %.1f | %.1f | %.2f | %.1f |\n" "$scene" "${took[before]}" "${took[after]}" \
    "$(awk -v a="${took[after]}" -v b="${took[before]}" 'BEGIN{print a / b}')" "${took[colmap]}" \
    >> "$out/times.md"
done
cat "$out/digests.md" "$out/times.md"
