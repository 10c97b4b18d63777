#!/usr/bin/env bash
# Gathers, on a Debian 12 machine with network, what scripts/gpu-check.sh needs on a GPU machine
# that has no network and lacks our build dependencies, into one git-ignored folder that the
# device tool carries (`carry: [".gpu-bundle"]`, under its 64 MiB limit):
#
#   debs/      the -dev packages cog-server, cog-worker and cog-gpu-probe build against, with their
#              runtime libraries and pkgconf; gpu-check.sh unpacks them with `dpkg -x` into a
#              private prefix (never into /). glibc, libstdc++ and gcc's runtime are left out:
#              the GPU machine's own (Ubuntu 24.04, newer than bookworm's) serve.
#   wheels/    cog and coglet (the real Cog runtime, for the side-by-side measurement) with their
#              dependencies, and pybind11, for CPython 3.12 on manylinux x86_64.
#   python3.12-include/   CPython 3.12 headers, used only where the GPU machine's Python has none.
#   MANIFEST   what is in it, with sizes.
#
#   scripts/gpu-check-bundle.sh [--out DIR]      (default: .gpu-bundle in the checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu-bundle
while (($#)); do
  case "$1" in
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "gpu-check-bundle: error: $1: unknown argument — see --help" >&2; exit 2 ;;
  esac
done

COG_VERSION=0.23.1      # the Cog runtime tests/e2e/coglet_helpers.py compares against
PYBIND11_VERSION=2.13.6 # the one builder/pipeline/worker_build.cpp compiles workers with
dev_packages=(libcli11-dev libyaml-cpp-dev nlohmann-json3-dev libcurl4-openssl-dev libarchive-dev
              libssl-dev zlib1g-dev libcpp-httplib-dev pkgconf)
# The C and C++ runtime and glibc's headers: the GPU machine's own compiler brings its own.
host_packages='^(gcc-[0-9]+-base|libc6|libc6-dev|libc-dev-bin|libcrypt1|libcrypt-dev|libgcc-s1|libstdc\+\+6|libnsl2|libnsl-dev|libtirpc.*|linux-libc-dev|rpcsvc-proto)$'

started=$SECONDS
rm -rf "$out"
mkdir -p "$out/debs" "$out/wheels"

echo "gpu-check-bundle: resolving ${dev_packages[*]} ..."
mapfile -t packages < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${dev_packages[@]}" | grep -v '^[ <]' | sort -u |
  grep -Ev "$host_packages")
if ((${#packages[@]} < ${#dev_packages[@]})); then
  echo "gpu-check-bundle: error: apt-cache: the packages did not resolve — run apt-get update first" >&2
  exit 1
fi
echo "gpu-check-bundle: downloading ${#packages[@]} .deb files ..."
(cd "$out/debs" && apt-get download -q -o APT::Sandbox::User=root "${packages[@]}" >/dev/null)

echo "gpu-check-bundle: downloading cog, coglet $COG_VERSION and pybind11 $PYBIND11_VERSION wheels for CPython 3.12 ..."
platforms=()
for n in 39 35 34 31 28 27 24 17 5; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux1_x86_64)
python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: --python-version 3.12 \
  --implementation cp "${platforms[@]}" -d "$out/wheels" \
  "cog==$COG_VERSION" "coglet==$COG_VERSION" "pybind11==$PYBIND11_VERSION"

# Headers of CPython 3.12 (same ABI for every 3.12.x): a fallback for a Python without them.
headers=""
for python in /root/.pyenv/versions/3.12*/bin/python3 /usr/bin/python3.12 "$(command -v python3.12 || true)"; do
  [ -x "$python" ] || continue
  candidate=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  if [ -f "$candidate/Python.h" ]; then headers=$candidate; break; fi
done
if [ -n "$headers" ]; then
  cp -r "$headers" "$out/python3.12-include"
else
  echo "gpu-check-bundle: warning: no CPython 3.12 headers here — the GPU machine's Python must have its own"
fi

{
  echo "# .gpu-bundle for scripts/gpu-check.sh, made $(date -u +%FT%TZ) on $(. /etc/os-release; echo "$PRETTY_NAME")"
  (cd "$out" && find debs wheels -type f -printf '%s %p\n' | sort -k2)
  [ -n "$headers" ] && echo "python3.12-include from $headers"
} > "$out/MANIFEST"
echo "gpu-check-bundle: $out is $(du -sh "$out" | cut -f1) ($(ls "$out/debs" | wc -l) debs, $(ls "$out/wheels" | wc -l) wheels) in $((SECONDS - started)) s"
