#!/usr/bin/env bash
# Installs scalesfm's build and run dependencies from Debian 12's packages. Non-interactive and
# idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail
packages=(
  build-essential cmake pkg-config git
  colmap
  libtorch-dev
  libopencv-dev libceres-dev libeigen3-dev libsqlite3-dev sqlite3
  libboost-program-options-dev libexif-dev libjpeg-dev libssl-dev libzip-dev nlohmann-json3-dev
  googletest libgtest-dev
  # retrieval/: FAISS k-means and nearest-word search for vocab_tree_matcher
  libfaiss-dev
  # LibTorch and COLMAP link the generic libblas.so.3; OpenBLAS makes it multi-threaded and
  # several times faster than the reference/ATLAS implementations (see docs/DESIGN_NOTES.md).
  libopenblas0-pthread
  # scripts/convert_official_weights.py (official PyTorch checkpoints -> scalesfm weights)
  python3 python3-torch
  # scripts/fuzz.sh: libFuzzer and the sanitizers (the CI's seeded fuzz test needs only GCC)
  clang libclang-rt-14-dev
  # tests/html_report_test.cc renders the evaluation report in headless Chromium
  chromium
  # tests/slurm_job_test.cc runs a real single-node Slurm (scripts/start_local_slurm.sh)
  slurm-wlm munge
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages are installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
