#!/usr/bin/env bash
# One command: install, build, render the bundled synthetic demo scene (wide and 4x-zoomed
# views), reconstruct it with scalesfm + COLMAP and print the pose accuracy against its GT.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install_deps.sh"
"$here/scripts/build.sh"
bin="$here/build/cli/scalesfm"
demo="$here/demo_workspace"
rm -rf "$demo"
"$bin" make_synthetic_scene --output_path "$demo/scene" --num_cameras 10 --num_zoomed 2 --zoom 4
"$bin" automatic_reconstructor --image_path "$demo/scene/images" --workspace_path "$demo/work" \
  --ImageReader.fixed_intrinsics_path "$demo/scene/gt"
"$bin" evaluate_model --model_path "$demo/work/sparse" --gt_path "$demo/scene/gt"
