#!/usr/bin/env bash
# Issue 26's hostile-user cases, run through the CLI as a user would, on a 6-image synthetic
# scene: each case's exit code, its first ERROR line, and whether anything already written was
# lost (the database dumped before and after, or the merged shards against one whole run).
# Writes a markdown table to OUT/reliability.md (and prints it).
# Usage: scripts/bench_reliability.sh [OUT]
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/bench_out/reliability}"
S="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
colmap_bin="$(command -v "${SCALESFM_COLMAP:-colmap}")"
rm -rf "$out" && mkdir -p "$out" && cd "$out" || exit 1
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); source tree at $(git -C "$here" rev-parse --short HEAD); binary $S"
"$S" make_synthetic_scene --output_path scene --num_cameras 6 > /dev/null
"$S" feature_extractor --database_path features.db --image_path scene/images \
  --Extraction.max_num_features 500 > /dev/null
cp features.db whole.db
"$S" exhaustive_matcher --database_path whole.db > /dev/null
printf '#!/bin/sh\n[ "$1" = matches_importer ] && sleep 2\nexec %s "$@"\n' "$colmap_bin" > slow_colmap.sh
chmod +x slow_colmap.sh

rows=()
dump() { sqlite3 "$1" .dump 2> /dev/null | sha256sum | cut -c1-16; }
geometries() { sqlite3 "$1" "select count(*) from two_view_geometries"; }
# case NAME EXPECT(fail|ok) DB COMMAND...: runs COMMAND; "lost" when DB's content changed.
case_row() {
  local name=$1 expect=$2 db=$3
  shift 3
  local before="" after
  [ -n "$db" ] && before=$(dump "$db")
  "$@" > case.log 2>&1
  local rc=$?
  local error
  error=$(grep -m1 '^ERROR:' case.log | cut -c1-150 | sed 's/|/\\|/g')
  local crashed=no
  { [ $rc -ge 128 ] || grep -q "terminate called\|Segmentation\|Aborted" case.log; } && crashed=yes
  local lost=no
  if [ -n "$db" ]; then
    after=$(dump "$db")
    [ "$before" = "$after" ] || lost=yes
  fi
  local verdict=pass
  if [ "$expect" = fail ]; then
    { [ $rc -eq 0 ] || [ -z "$error" ] || [ $crashed = yes ] || [ $lost = yes ]; } && verdict=FAIL
  fi
  rows+=("| $name | $rc | ${error:-(none)} | $crashed | $lost | $verdict |")
}
fresh() { cp features.db "$1"; }

# 1. Two shards in one folder, the README's example, with a slowed colmap.
for p in 1 2; do
  fresh s1.db && fresh s2.db && rm -f merged.db
  (SCALESFM_COLMAP=./slow_colmap.sh "$S" exhaustive_matcher --database_path s1.db \
    --Matching.shard 1/2 --SiftMatching.num_processes $p > s1.log 2>&1; echo $? > s1.rc) &
  SCALESFM_COLMAP=./slow_colmap.sh "$S" exhaustive_matcher --database_path s2.db \
    --Matching.shard 2/2 --SiftMatching.num_processes $p > s2.log 2>&1
  rc2=$?
  wait
  "$S" database_merger --database_path1 s1.db --database_path2 s2.db \
    --merged_database_path merged.db > /dev/null 2>&1
  got=$(geometries merged.db) want=$(geometries whole.db)
  left=$(ls -d ./*.scalesfm-tmp scalesfm_verify_* 2> /dev/null | wc -l)
  lost=no; [ "$got" = "$want" ] || lost=yes
  verdict=pass; { [ $lost = yes ] || [ "$(cat s1.rc)" != 0 ] || [ $rc2 != 0 ] || [ "$left" != 0 ]; } && verdict=FAIL
  rows+=("| two shards in one folder, num_processes $p | $(cat s1.rc), $rc2 | merged $got of $want geometries, $left temporary files left | no | $lost | $verdict |")
done

# 2. kill -9 during parallel verification, then a re-run.
fresh killed.db
SCALESFM_COLMAP=./slow_colmap.sh "$S" exhaustive_matcher --database_path killed.db \
  --SiftMatching.num_processes 2 > killed.log 2>&1 &
pid=$!
for _ in $(seq 100); do [ -d killed.db.scalesfm-tmp ] && ls killed.db.scalesfm-tmp/*/verify_1.db > /dev/null 2>&1 && break; sleep 0.1; done
kill -9 $pid; wait $pid 2> /dev/null
left_after_kill=$(find killed.db.scalesfm-tmp -name '*.db' 2> /dev/null | wc -l)
"$S" exhaustive_matcher --database_path killed.db --SiftMatching.num_processes 2 > rerun.log 2>&1
rc=$?
left=$(find . -maxdepth 1 -name '*.scalesfm-tmp' | wc -l)
got=$(geometries killed.db) want=$(geometries whole.db)
lost=no; [ "$got" = "$want" ] || lost=yes
verdict=pass; { [ $lost = yes ] || [ $rc != 0 ] || [ "$left" != 0 ]; } && verdict=FAIL
rows+=("| kill -9 during parallel verification, re-run | $rc | $left_after_kill copies after the kill, $left temporary folders after the re-run; $got of $want geometries | no | $lost | $verdict |")

# 3. Model and device set-up.
rm -f new.db
case_row "SCFeat weights missing" fail "" "$S" feature_extractor --database_path new.db \
  --image_path scene/images --Extraction.type scfeat --Extraction.scfeat_weights missing.pt
cp "$here/models/scfeat_compact.pt" flipped.pt && cp "$here/models/scfeat_compact.pt.json" flipped.pt.json
printf '\xff' | dd of=flipped.pt bs=1 seek=$(($(stat -c %s flipped.pt) / 2)) conv=notrunc 2> /dev/null
case_row "SCFeat weights with one byte changed (same size)" fail "" "$S" feature_extractor \
  --database_path new.db --image_path scene/images --Extraction.type scfeat \
  --Extraction.scfeat_weights flipped.pt
cp "$here/models/scalenet_compact.pt" flipped_scalenet.pt && cp "$here/models/scalenet_compact.pt.json" flipped_scalenet.pt.json
printf '\x7f\xc0' | dd of=flipped_scalenet.pt bs=1 seek=$(($(stat -c %s flipped_scalenet.pt) / 2)) conv=notrunc 2> /dev/null
case_row "ScaleNet weights with two bytes changed, estimate_scale --json" fail "" "$S" estimate_scale \
  --image1 scene/images/0000.png --image2 scene/images/0001.png --ScaleMatching.estimator scalenet \
  --ScaleMatching.weights flipped_scalenet.pt --json
# A NaN written into the first tensor, the zip rewritten (valid CRCs) and the sha256 updated:
# only the finite check can tell (before issue 26: "scale": nan, rc 0).
python3 - "$here/models/scalenet_compact.pt" nan_scalenet.pt <<'PY'
import hashlib, json, struct, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    first = next(n for n in zin.namelist() if "/data/" in n)
    for n in zin.namelist():
        b = zin.read(n)
        zout.writestr(n, struct.pack("<f", float("nan")) + b[4:] if n == first else b)
sidecar = json.load(open(src + ".json"))
sidecar["sha256"] = hashlib.sha256(open(dst, "rb").read()).hexdigest()
json.dump(sidecar, open(dst + ".json", "w"))
PY
case_row "ScaleNet weights holding a NaN (sha256 updated), estimate_scale --json" fail "" "$S" \
  estimate_scale --image1 scene/images/0000.png --image2 scene/images/0001.png \
  --ScaleMatching.estimator scalenet --ScaleMatching.weights nan_scalenet.pt --json
[ -e new.db ] && rows+=("| (a database was created by a failed extraction) | | | | yes | FAIL |")
if ! "$S" estimate_scale --image1 scene/images/0000.png --image2 scene/images/0001.png --device cuda > /dev/null 2>&1; then
  fresh dev.db
  for cmd in "feature_extractor --database_path new.db --image_path scene/images" \
    "exhaustive_matcher --database_path dev.db" \
    "automatic_reconstructor --image_path scene/images --workspace_path ws" \
    "estimate_scale --image1 scene/images/0000.png --image2 scene/images/0001.png" \
    "eval_eth --dataset_path scene --output_path eth" "eval_imc --dataset_path scene --output_path imc"; do
    # shellcheck disable=SC2086
    case_row "\`${cmd%% *} --device cuda\`, no GPU" fail dev.db "$S" $cmd --device cuda
  done
fi
case_row "evaluate_model --model_path /nonexistent" fail "" "$S" evaluate_model \
  --model_path /nonexistent --gt_path scene/gt

# 4. Image folders.
mkdir -p odd/images && cp scene/images/000[01].png odd/images/
ln -s loop_b.jpg odd/images/loop_a.jpg && ln -s loop_a.jpg odd/images/loop_b.jpg
ln -s /nonexistent/photo.jpg odd/images/dangling.jpg && mkdir odd/images/folder.jpg
jpeg=$(find "${SCALESFM_SHARED:-$here/../shared}/data/strecha" -name '*.jpg' 2> /dev/null | head -1)
expected_failed=4
if [ -n "$jpeg" ]; then  # a JPEG with 64 bytes XORed in the middle of its entropy-coded data
  python3 -c "
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
for i in range(len(b) // 2, len(b) // 2 + 64): b[i] ^= 0xA5
open(sys.argv[2], 'wb').write(b)" "$jpeg" odd/images/damaged.jpg
  expected_failed=5
fi
"$S" feature_extractor --database_path odd.db --image_path odd/images > odd.log 2>&1
rc=$?
failed=$(grep -c '  failed: ' odd.log)
verdict=pass; { [ $rc != 0 ] || [ "$failed" != "$expected_failed" ]; } && verdict=FAIL
rows+=("| symlink loop, dangling link, folder named .jpg$([ $expected_failed = 5 ] && echo ', JPEG damaged mid-stream') | $rc | $failed entries listed as failed, $(sqlite3 odd.db 'select count(*) from images') images extracted | no | no | $verdict |")

# 5. Late checks: options, read-only mounts, inconsistent features.
for flag in "--SiftMatching.confidence 2" "--SiftMatching.min_inlier_ratio 1.5" "--SiftMatching.max_num_trials 0"; do
  fresh late.db
  # shellcheck disable=SC2086
  case_row "exhaustive_matcher $flag" fail late.db "$S" exhaustive_matcher --database_path late.db $flag
done
if unshare -rm true 2> /dev/null; then
  mkdir -p ro && fresh ro/database.db
  case_row "database on a read-only mount" fail ro/database.db unshare -rm sh -c \
    "mount --bind ro ro && mount -o remount,bind,ro ro && $S exhaustive_matcher --database_path ro/database.db"
fi

# 6. Malformed blobs and side-table rows (each on a fresh copy; the copy must stay as it was).
blob_case() {  # blob_case NAME PYTHON: PYTHON edits the sqlite3 connection `c` of a fresh copy
  local name=$1 edit=$2
  fresh blob.db
  python3 -c "
import math, sqlite3, struct
c = sqlite3.connect('blob.db')
def blob(table, column, where):
    return bytearray(c.execute(f'select {column} from {table} where {where}').fetchone()[0])
$edit
c.commit()" || { rows+=("| $name | | (the edit itself failed) | | | FAIL |"); return; }
  case_row "$name" fail blob.db "$S" exhaustive_matcher --database_path blob.db
}
blob_case "keypoints.cols = 0, blob emptied" "c.execute('update keypoints set cols = 0, data = x\'\' where image_id = 2')"
blob_case "keypoints.rows = -5" "c.execute('update keypoints set rows = -5 where image_id = 2')"
blob_case "keypoints.rows = 2^40" "c.execute('update keypoints set rows = 1099511627776 where image_id = 2')"
blob_case "NaN keypoint coordinate" "b = blob('keypoints', 'data', 'image_id = 2'); b[0:4] = struct.pack('f', math.nan); c.execute('update keypoints set data = ? where image_id = 2', (bytes(b),))"
blob_case "descriptor rows != keypoint rows" "b = blob('descriptors', 'data', 'image_id = 3'); c.execute('update descriptors set rows = rows - 1, data = ? where image_id = 3', (bytes(b[128:]),))"
blob_case "feature level keypoint_index out of range" "b = blob('scalesfm_feature_levels', 'keypoint_index', 'image_id = 2 and level = 1'); b[0:4] = struct.pack('I', 2**31); c.execute('update scalesfm_feature_levels set keypoint_index = ? where image_id = 2 and level = 1', (bytes(b),))"
blob_case "descriptor blob truncated" "b = blob('descriptors', 'data', 'image_id = 4'); c.execute('update descriptors set data = ? where image_id = 4', (bytes(b[:100]),))"
blob_case "camera params blob of 2 doubles" "c.execute('update cameras set params = ? where camera_id = 1', (struct.pack('2d', 1, 2),))"
blob_case "matches.cols = 3" "c.execute('insert or replace into matches values (2147483649, 1, 3, ?)', (struct.pack('3I', 0, 1, 2),))"
blob_case "match index past the keypoints" "c.execute('insert or replace into matches values (2147483649, 1, 2, ?)', (struct.pack('2I', 0, 10**9),)); c.execute('insert or replace into two_view_geometries(pair_id, rows, cols, data, config) values (2147483649, 1, 2, ?, 2)', (struct.pack('2I', 0, 10**9),))"
blob_case "two_view_geometries.config = 42" "c.execute('insert or replace into two_view_geometries(pair_id, rows, cols, data, config) values (2147483649, 0, 2, NULL, 42)')"
blob_case "negative pair scale" "c.execute('insert or replace into scalesfm_pair_scales values (2147483649, \\'sift_vote\\', -2.0, 5)')"

{
  echo "| case | exit code | first ERROR line (or outcome) | crashed | data lost | verdict |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee reliability.md
grep -q '| FAIL |$' reliability.md && exit 1
exit 0
