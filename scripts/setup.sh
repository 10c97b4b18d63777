#!/usr/bin/env bash
# First command of the README: install, build, then run the main job on examples/hello.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd examples/hello
../../build/cli/cog run --local -i name=world
