#!/usr/bin/env bash
# One command: install, build (warnings are errors) and run the whole test suite with CTest.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install_deps.sh"
"$here/scripts/build.sh"
cd "$here/build"
ctest --output-on-failure --timeout 900 -j 2
