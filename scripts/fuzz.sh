#!/usr/bin/env bash
# Issue 26: the libFuzzer targets of fuzz/ (database readers, weights loader), built with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz/, each run for RUNS inputs.
# A crash, a sanitizer report, an exception other than scalesfm::Error or an unsound acceptance
# stops the target and leaves the input in OUT/<target>/crash-*; the script then exits 1.
# Prints one line per target: inputs run, crashes, time, corpus size, coverage.
# Usage: scripts/fuzz.sh [RUNS (10000)] [OUT (bench_out/fuzz)]
# Needs Debian's clang and libclang-rt-14-dev (scripts/install_deps.sh installs them).
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:-10000}"
out="${2:-$here/bench_out/fuzz}"
build="$here/build-fuzz"
jobs="$(nproc)"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.ccache}"
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
mkdir -p "$build"
CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSCALESFM_FUZZ=ON \
  -DSCALESFM_BUILD_TESTS=OFF "${launcher[@]}" > "$build/cmake.log" 2>&1 ||
  { cat "$build/cmake.log"; exit 1; }
cmake --build "$build" -j "$jobs" --target database_fuzzer weights_fuzzer > "$build/build.log" 2>&1 ||
  { tail -40 "$build/build.log"; exit 1; }
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); commit $(git -C "$here" rev-parse --short HEAD); $(clang++ --version | head -1)"
status=0
for target in database_fuzzer weights_fuzzer; do
  mkdir -p "$out/$target/corpus"
  rm -f "$out/$target"/crash-* "$out/$target"/oom-* "$out/$target"/timeout-*  # the corpus stays
  start=$(date +%s)
  # LibTorch keeps its allocations to the end; leak reports there are not ours.
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/$target" -runs="$runs" -seed=26 -max_len=512 -len_control=0 -rss_limit_mb=4096 \
    -artifact_prefix="$out/$target/" "$out/$target/corpus" > "$out/$target/log.txt" 2>&1
  rc=$?
  crashes=$(find "$out/$target" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'oom-*' \
    -o -maxdepth 1 -name 'timeout-*' | wc -l)
  done_line=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$out/$target/log.txt" | tail -1)
  echo "$target: rc $rc, $runs inputs, $crashes crashes, $(( $(date +%s) - start )) s," \
    "corpus $(ls "$out/$target/corpus" | wc -l) inputs, last status: ${done_line:-none}"
  if [ $rc -ne 0 ] || [ "$crashes" -ne 0 ]; then
    status=1
    grep -m5 -E 'ERROR|SUMMARY|terminate|what\(\)' "$out/$target/log.txt"
  fi
done
exit $status
