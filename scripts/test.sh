#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every unit and end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
jobs=$(nproc 2>/dev/null || echo 2)
# Bounded fuzzing (about 30 s per target) of the parsers that read user files: cog.yaml and pip
# requirements. Built with clang's libFuzzer and sanitizers in its own build directory.
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCOG_BUILD_FUZZERS=ON -DCOG_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzz_cog_yaml fuzz_requirements
for target in cog_yaml requirements; do
  mkdir -p "build-fuzz/corpus/$target" "build-fuzz/findings"
  if ! "build-fuzz/tests/fuzz/fuzz_$target" -max_total_time=30 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=build-fuzz/findings/ "build-fuzz/corpus/$target" "tests/fuzz/corpus/$target" \
      2>"build-fuzz/fuzz_$target.log"; then
    tail -n 40 "build-fuzz/fuzz_$target.log"
    echo "fuzz_$target found a problem; the input is in build-fuzz/findings/" >&2
    exit 1
  fi
done
ctest --test-dir build --output-on-failure -j "$jobs" "$@"
