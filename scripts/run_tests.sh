#!/usr/bin/env bash
# One command: install, build (warnings are errors) and run the whole test suite with CTest.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install_deps.sh"
"$here/scripts/build.sh"
# The Slurm tests (tests/slurm_job_test.cc) are part of the suite: they need a running Slurm, so
# a failure to start one fails the run here, with the daemons' logs.
"$here/scripts/start_local_slurm.sh" || {
  echo "run_tests: scripts/start_local_slurm.sh failed (see above); the Slurm tests need it" >&2
  exit 1
}
cd "$here/build"
ctest --output-on-failure --timeout 900 -j 2
