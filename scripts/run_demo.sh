#!/usr/bin/env bash
# One command: install, build, render the bundled synthetic demo scene (wide and 4x-zoomed
# views), reconstruct it with scalesfm + COLMAP and print the pose accuracy against its GT
# (scripts/demo.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install_deps.sh"
"$here/scripts/build.sh"
"$here/scripts/demo.sh" "$here/build/cli/scalesfm" "$here/demo_workspace"
