#!/usr/bin/env bash
# First command of the README: install, build, then the main job on examples/hello: build its
# image without a Docker daemon and print a prediction run in a container (runc) from it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd examples/hello
../../build/cli/cog build -t hello
../../build/cli/cog run hello -i name=world
