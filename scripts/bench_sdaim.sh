#!/usr/bin/env bash
# Issue 5 acceptance: SIFT matching accuracy on the homography pairs with and without SDAIM.
# Usage: scripts/bench_sdaim.sh [OUTPUT_DIR] [extra eval_sdaim flags]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SCALESFM_SHARED:-$here/../shared}"
out="${1:-$here/bench_out/sdaim}"
shift || true
bin="${SCALESFM_BIN:-$here/build/cli/scalesfm}"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(lscpu | sed -n 's/^Model name: *//p')"
echo "commit: $(git -C "$here" rev-parse --short HEAD)"
"$bin" eval_sdaim --homography_path "$shared/data/homography" --output_path "$out" "$@"
