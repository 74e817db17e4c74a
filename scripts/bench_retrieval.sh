#!/usr/bin/env bash
# Issue 27's retrieval recall: do multi-level bags of words find the overlapping wide-zoom pairs
# that single-level retrieval misses? For each seed of a half (tune 0 2 4, validate 1 3 5; see
# bench_zoom_generalisation.sh), one collection holds that seed's zoom scene of each of the seven
# posed base scenes (77 images; the other scenes are the distractors), extracted once with
# scalesfm's default (multi-level) features. `vocab_tree_retriever` then ranks 20 partners per
# image with one bag per scale level (multi) and with one bag of the native level (single; its
# vocabulary is built on native-level descriptors), and scripts/retrieval_recall.py counts the GT
# overlapping pairs (>= 20 common GT points) among each image's top k (5, 10, 20).
#
# Usage: scripts/bench_retrieval.sh tune|validate [OUT] [extra vocab_tree_retriever flags]
# Scenes are made by bench_zoom_generalisation.sh's rule (make_zoom_scene, optical zoom, seed);
# SCALESFM_SCENES_DIR reuses a folder of them (<scene>-zoom-s<seed>).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
half="${1:?usage: bench_retrieval.sh tune|validate [OUT] [flags]}"
out="${2:-$here/bench_out/retrieval_$half}"
shift $(( $# >= 2 ? 2 : 1 ))
case "$half" in
  tune) seeds="0 2 4" ;;
  validate) seeds="1 3 5" ;;
  *) echo "unknown half '$half'" >&2; exit 2 ;;
esac
shared="${SCALESFM_SHARED:-$here/../shared}"
scenes_dir="${SCALESFM_SCENES_DIR:-$out/scenes}"
mkdir -p "$out/bin"
cp "${SCALESFM_BIN:-$here/build/cli/scalesfm}" "$out/bin/scalesfm"
bin="$out/bin/scalesfm"
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); commit: $(git -C "$here" rev-parse --short HEAD)"
for seed in $seeds; do
  c="$out/s$seed"
  mkdir -p "$c/images" "$c/scenes"
  for scene in fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19 statue sacre_coeur british_museum; do
    src="$scenes_dir/$scene-zoom-s$seed"
    if [ ! -d "$src/images" ]; then
      base="$shared/data/strecha/$scene"; [ -d "$base" ] || base="$shared/data/realworld/$scene"
      "$bin" make_zoom_scene --scene_path "$base" --output_path "$src" --seed "$seed" \
        --zoom_model optical --exif_focal_error 0 > "$c/make_$scene.log" 2>&1
    fi
    ln -sfn "$src" "$c/scenes/$scene-zoom-s$seed"
    mkdir -p "$c/images/$scene-zoom-s$seed"
    for f in "$src"/images/*; do ln -sf "$f" "$c/images/$scene-zoom-s$seed/"; done
  done
  [ -f "$c/db.db" ] || "$bin" feature_extractor --database_path "$c/db.db" --image_path "$c/images" > "$c/extract.log" 2>&1
  for ml in 1 0; do
    name=$([ $ml = 1 ] && echo multi || echo single)
    /usr/bin/time -f "%e s, %M KiB" -o "$c/$name.time" \
      "$bin" vocab_tree_retriever --database_path "$c/db.db" --output_path "$c/$name.txt" \
      --VocabTreeMatching.num_images 20 --VocabTreeMatching.multi_level $ml "$@" > "$c/$name.log" 2>&1
    echo "== seed $seed, $name-level ($(cat "$c/$name.time"))"
    python3 "$here/scripts/retrieval_recall.py" "$c/scenes" "$c/$name.txt" --json "$c/$name.json"
  done
done

# Stock COLMAP's retrieval on the same collections, as a user of COLMAP 3.8 runs it: its own
# single-level SIFT, its vocab_tree_builder (4096 words, built on the collection) and
# vocab_tree_retriever (21 images: the query itself is among them). Set SCALESFM_COLMAP_RETRIEVAL=0
# to skip it.
if [ "${SCALESFM_COLMAP_RETRIEVAL:-1}" = 1 ]; then
  colmap="${SCALESFM_COLMAP:-colmap}"
  for seed in $seeds; do
    c="$out/s$seed"
    [ -f "$c/colmap.db" ] || "$colmap" feature_extractor --database_path "$c/colmap.db" \
      --image_path "$c/images" --SiftExtraction.use_gpu 0 > "$c/colmap_extract.log" 2>&1
    [ -f "$c/colmap_tree.bin" ] || "$colmap" vocab_tree_builder --database_path "$c/colmap.db" \
      --vocab_tree_path "$c/colmap_tree.bin" --num_visual_words 4096 > "$c/colmap_tree.log" 2>&1
    "$colmap" vocab_tree_retriever --database_path "$c/colmap.db" \
      --vocab_tree_path "$c/colmap_tree.bin" --num_images 21 > "$c/colmap_retrieval.log" 2>&1
    echo "== seed $seed, stock COLMAP (single-level SIFT, its vocabulary tree)"
    python3 "$here/scripts/retrieval_recall.py" "$c/scenes" "$c/colmap_retrieval.log" \
      --json "$c/colmap.json"
  done
fi
