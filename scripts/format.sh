#!/usr/bin/env bash
# Formats the C++ sources with the checked-in .clang-format; --check only reports (and fails on)
# the files that are not formatted, as scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.cc' | grep -v '^third_party/')
if [ "${1:-}" = "--check" ]; then
  unformatted=()
  for file in "${files[@]}"; do
    clang-format --dry-run -Werror "$file" >/dev/null 2>&1 || unformatted+=("$file")
  done
  if ((${#unformatted[@]})); then
    printf 'not formatted: %s\n' "${unformatted[@]}" >&2
    echo "format check failed: run bash scripts/format.sh and commit the result" >&2
    exit 1
  fi
  echo "format check: ${#files[@]} files formatted"
else
  clang-format -i "${files[@]}"
fi
