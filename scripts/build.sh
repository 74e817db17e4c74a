#!/usr/bin/env bash
# Configures and builds scalesfm into build/ (Release, warnings as errors).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release -DSCALESFM_WERROR=ON
cmake --build "$here/build" -j "$(nproc)"
