#!/usr/bin/env bash
# Prints the skips a test run recorded (scripts/test.sh's COG_SKIP_LOG: one "AREA: TEST: REASON" a
# line), the ones that leave a mission feature untested in a block of their own, so that a suite
# that passed without them says so at the very end.
set -euo pipefail
log="$1"
[ -s "$log" ] || { echo "No test was skipped."; exit 0; }
# GPU images, the real model examples, podman, the comparisons with the real Cog (runtime, schema).
mission='test_gpu_images|test_container_gpus|test_examples|test_coglet_differential|test_schema_oracle|podman'
echo
echo "Skipped tests ($(wc -l <"$log")):"
sort "$log" | grep -Ev "$mission" | sed 's/^/  /' || true
if grep -Eq "$mission" "$log"; then
  echo
  echo "################################################################################"
  echo "SKIPPED (mission features): these were NOT tested in this run"
  sort "$log" | grep -E "$mission" | sed 's/^/  /'
  echo "################################################################################"
fi
