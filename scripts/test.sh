#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run): installs what is missing, builds, fuzzes the parsers
# and the server's request handling for a bounded time, and runs every unit and end-to-end test
# against empty caches and an empty image store of its own (build/ci-state, emptied first), so that
# nothing earlier runs left on this machine can make it pass. Ends with every skipped test and why.
#
#   scripts/test.sh [CTEST ARGS...]           fresh machine, as CI (docs/testing.md says how long it takes)
#   scripts/test.sh --warm [CTEST ARGS...]    the developer loop: no fuzzing, your own caches and
#                                             store (~/.cache/cog, ~/.local/share/cog), so bases and
#                                             layers built before are reused
#
# e.g. scripts/test.sh --warm -R 'e2e: test_build_and_run'
set -euo pipefail
cd "$(dirname "$0")/.."
warm=false
if [ "${1:-}" = "--warm" ]; then
  warm=true
  shift
fi
phase() { echo "== $1 took $SECONDS s" >&2; SECONDS=0; }
bash scripts/install-deps.sh
phase "installing dependencies"
bash scripts/format.sh --check  # .clang-format: the C++ sources as clang-format writes them
bash scripts/build.sh
phase "building"
jobs=$(nproc 2>/dev/null || echo 2)

if ! $warm; then
  # Everything cog and the tests read or write between runs lives under XDG_CACHE_HOME (bases,
  # layers, unpacked rootfs, step caches, python archives, the tests' venvs) and XDG_DATA_HOME (the
  # image store); the variables that override single ones are cleared. TMPDIR stays outside the
  # checkout: a test's scratch project inside this git work tree would take its revision.
  state="$PWD/build/ci-state"
  rm -rf "$state"
  mkdir -p "$state/cache" "$state/data"
  export XDG_CACHE_HOME="$state/cache" XDG_DATA_HOME="$state/data"
  unset COG_IMAGE_STORE COG_LAYER_CACHE COG_ROOTFS_CACHE COG_PYTHON_STANDALONE

  # Bounded fuzzing (about 30 s per target) of the parsers that read user files (cog.yaml, pip
  # requirements) and of cog-server's request handling. Built with clang's libFuzzer and sanitizers
  # in its own build directory; each target's seeds are in tests/fuzz*/corpus.
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCOG_BUILD_FUZZERS=ON -DCOG_BUILD_TESTS=OFF >/dev/null
  cmake --build build-fuzz -j "$jobs" --target fuzz_cog_yaml fuzz_requirements fuzz_server_request
  mkdir -p build-fuzz/findings
  for fuzzer in fuzz/fuzz_cog_yaml:fuzz/corpus/cog_yaml fuzz/fuzz_requirements:fuzz/corpus/requirements \
      fuzz_server/fuzz_server_request:fuzz_server/corpus; do
    binary="build-fuzz/tests/${fuzzer%%:*}" seeds="tests/${fuzzer#*:}" name="${fuzzer%%:*}"
    name="${name##*/}"
    mkdir -p "build-fuzz/corpus/$name"
    if ! "$binary" -max_total_time=30 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/findings/ \
        "build-fuzz/corpus/$name" "$seeds" 2>"build-fuzz/$name.log"; then
      tail -n 40 "build-fuzz/$name.log"
      echo "$name found a problem; the input is in build-fuzz/findings/" >&2
      exit 1
    fi
  done
  phase "building and running the fuzzers"
fi

# Every skip (doctest's COG_SKIP, pytest's skips) is appended here and listed at the end.
export COG_SKIP_LOG="$PWD/build/test-skips.log"
: >"$COG_SKIP_LOG"
status=0
ctest --test-dir build --output-on-failure -j "$jobs" "$@" || status=$?
phase "running the tests"
if ! $warm; then
  # What the suite left on disk, and what the disk has left: a full disk fails tests far from here.
  echo "== disk: $(du -sh "$state" 2>/dev/null | cut -f1) in build/ci-state; $(df -h --output=avail "$state" | tail -1 | tr -d ' ') free" >&2
fi
bash scripts/test-skips.sh "$COG_SKIP_LOG"
exit "$status"
