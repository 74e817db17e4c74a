#!/usr/bin/env bash
# IMC 2020 protocol (multiview bags + stereo) on the -zoom Strecha scenes: scalesfm vs stock.
# Usage: scripts/bench_imc.sh [OUTPUT_DIR] [extra eval_imc flags]
# SCALESFM_INTRINSICS: eval_imc --intrinsics gt|exif|free (default free, IMC 2020's multiview
# setting; the tables recorded before issue 31 used gt).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/imc}"
shift || true
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
args=()
# SCALESFM_SCENES=base runs the base scenes instead of the -zoom ones.
suffix="-zoom"
[ "${SCALESFM_SCENES:-zoom}" = base ] && suffix=""
for scene in fountain-P11 Herz-Jesus-P8 entry-P10 castle-P19; do
  args+=(--dataset_path "$shared/data/strecha/$scene$suffix")
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)"
"$bin" eval_imc --intrinsics "${SCALESFM_INTRINSICS:-free}" "${args[@]}" --output_path "$out" --methods scalesfm,colmap-default "$@"
