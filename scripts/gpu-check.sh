#!/usr/bin/env bash
# The GPU path on a real GPU, as one command: builds cog-server, cog-worker (embedding the
# machine's own Python), cog-gpu-probe and the load generator; runs a PyTorch predictor on the
# device through our runtime in host mode (device, 8 async slots, cancel, worker crash); measures
# it beside the real Cog runtime (coglet); sets our driver logic beside the real driver. Results
# go to DIR/results.json and DIR/results.md; the markdown table is printed at the end.
#
#   scripts/gpu-check.sh --out DIR [--cpu] [--python PATH] [--prefix DIR] [--bundle DIR]
#                        [--build-dir DIR] [--jobs N] [--quick]
#
#   --cpu         the same steps on the CPU (no GPU needed; driver steps report "no driver")
#   --python      the interpreter with torch; its version is the one the worker embeds
#                 (default /opt/torch/.venv/bin/python3 where it exists, else python3)
#   --bundle      what scripts/gpu-check-bundle.sh gathered (default .gpu-bundle): its .debs are
#                 unpacked into a private prefix, its wheels give cog, coglet and pybind11
#   --prefix      an unpacked prefix to build against instead (default: the bundle's, unpacked
#                 to /tmp/cog-gpu-check/prefix; none at all when there is no bundle)
#   --quick       fewer measured requests (CI's CPU mode)
#
# Exit status: 0 all checks passed, 1 a check failed, 2 usage or setup error, 77 skipped (--cpu
# only: the Python has no torch).
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$PWD

out="" cpu=0 python="" prefix="" bundle=.gpu-bundle build_dir="" jobs=$(nproc 2>/dev/null || echo 2) quick=0
while (($#)); do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --cpu) cpu=1; shift ;;
    --python) python=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --bundle) bundle=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "gpu-check: error: $1: unknown argument — see --help" >&2; exit 2 ;;
  esac
done
fail() { echo "gpu-check: error: $1: $2 — $3" >&2; exit "${4:-2}"; }
[ -n "$out" ] || fail "--out" "missing" "name the directory for the results"
mkdir -p "$out"; out=$(cd "$out" && pwd)
if [ -z "$python" ]; then
  if [ -x /opt/torch/.venv/bin/python3 ]; then python=/opt/torch/.venv/bin/python3; else python=$(command -v python3); fi
fi
if [ ! -x "$python" ]; then
  if ((cpu)); then
    echo "SKIPPED (mission feature): gpu-check CPU mode: no Python at $python — make a venv with torch (docs/gpu-check.md)"
    exit 77
  fi
  fail "--python $python" "not an executable" "pass the interpreter that has torch"
fi
python=$(cd "$(dirname "$python")" && pwd)/$(basename "$python")  # absolute, the venv's own path kept
device=cuda; ((cpu)) && device=cpu
[ -z "$build_dir" ] && build_dir="$source_dir/build-gpu-check-$device"
phase_start=$SECONDS
phase() { echo "gpu-check: [$((SECONDS - phase_start)) s] $*"; }

# 1. The Python: torch (and, without --cpu, a CUDA device it sees).
torch_line=$("$python" -c 'import sys, torch; print(sys.version.split()[0], torch.__version__, torch.cuda.is_available())' 2>/dev/null) || {
  if ((cpu)); then
    echo "SKIPPED (mission feature): gpu-check CPU mode: torch not installed for $python — pass --python with a venv that has torch (scripts/gpu-check.sh --help)"
    exit 77
  fi
  fail "--python $python" "cannot import torch" "pass the interpreter that has PyTorch"
}
read -r python_version torch_version cuda_available <<<"$torch_line"
phase "Python $python_version ($python), torch $torch_version, CUDA available: $cuda_available"
if ((! cpu)) && [ "$cuda_available" != True ]; then
  fail "torch" "torch.cuda.is_available() is False on this machine" "run on a GPU machine, or pass --cpu"
fi

# 2. The private prefix: the bundle's .debs, unpacked (never into /).
if [ -z "$prefix" ] && [ -d "$bundle/debs" ]; then
  prefix=/tmp/cog-gpu-check/prefix
  stamp="$prefix/.unpacked-$(cat "$bundle/MANIFEST" 2>/dev/null | sha256sum | cut -c1-16)"
  if [ ! -e "$stamp" ]; then
    rm -rf "$prefix"; mkdir -p "$prefix"
    for deb in "$bundle"/debs/*.deb; do dpkg-deb -x "$deb" "$prefix"; done
    touch "$stamp"
  fi
  phase "unpacked $(ls "$bundle"/debs/*.deb | wc -l) .debs into $prefix"
fi
# CMAKE_POLICY_VERSION_MINIMUM: a CMake 4 (pip's) still reads the packages' older config files.
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DCOG_BUILD_TESTS=OFF -DCOG_BUILD_BENCH=ON "-DCOG_PYTHON=$python"
            -DCMAKE_POLICY_VERSION_MINIMUM=3.5)
if [ -n "$prefix" ]; then
  prefix=$(cd "$prefix" && pwd)
  multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
  libdir="$prefix/usr/lib/$multiarch"
  # bookworm still puts some libraries (zlib, lzma, bz2, ...) in /lib: both folders go in the RPATH.
  cmake_args+=("-DCMAKE_PREFIX_PATH=$prefix/usr" "-DPKG_CONFIG_EXECUTABLE=$prefix/usr/bin/pkgconf"
               "-DCMAKE_BUILD_RPATH=$libdir;$prefix/lib/$multiarch")
  # For the build only (pkgconf, and ld finding the libraries' own dependencies); the binaries
  # find them at run time through the RPATH CMake writes, so the worker's Python never sees them.
  export PKG_CONFIG_LIBDIR="$libdir/pkgconfig:$prefix/usr/share/pkgconfig" PKG_CONFIG_SYSROOT_DIR=$prefix
  export LD_LIBRARY_PATH="$libdir:$prefix/lib/$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# 3. Headers: the Python's own, else the bundle's CPython 3.12 ones; pybind11 from the Python,
#    else from the bundle's wheel.
include_dir=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
if [ ! -f "$include_dir/Python.h" ]; then
  [ -f "$bundle/python3.12-include/Python.h" ] && [ "${python_version%.*}" = 3.12 ] ||
    fail "$include_dir" "no Python.h for $python" "install its -dev package, or carry CPython headers in the bundle"
  cmake_args+=("-DPython_INCLUDE_DIR=$(cd "$bundle/python3.12-include" && pwd)")
  phase "no Python.h in $include_dir: using the bundle's CPython 3.12 headers"
fi
# The bundle's pybind11 first: the version builder/pipeline/worker_build.cpp compiles workers with
# (the machine's may be a major version ahead).
pybind11_dir=""
if compgen -G "$bundle/wheels/pybind11-*.whl" >/dev/null; then
  rm -rf /tmp/cog-gpu-check/pybind11 && mkdir -p /tmp/cog-gpu-check/pybind11
  "$python" -m zipfile -e "$(ls "$bundle"/wheels/pybind11-*.whl | head -1)" /tmp/cog-gpu-check/pybind11
  pybind11_dir=/tmp/cog-gpu-check/pybind11/pybind11/share/cmake/pybind11
fi
[ -n "$pybind11_dir" ] || pybind11_dir=$("$python" -c 'import pybind11; print(pybind11.get_cmake_dir())' 2>/dev/null || true)
[ -n "$pybind11_dir" ] && cmake_args+=("-Dpybind11_DIR=$pybind11_dir")

# 4. Build what the check runs.
phase "configuring in $build_dir"
cmake -S "$source_dir" -B "$build_dir" "${cmake_args[@]}" >"$out/build.log" 2>&1 ||
  { tail -n 30 "$out/build.log" >&2; fail "cmake" "configure failed" "see $out/build.log"; }
phase "building cog-server cog-worker cog-gpu-probe cog-bench-loadgen with -j$jobs"
cmake --build "$build_dir" -j "$jobs" --target cog-server cog-worker cog-gpu-probe cog-bench-loadgen >>"$out/build.log" 2>&1 ||
  { grep -m 20 -B2 -A6 'error' "$out/build.log" >&2 || tail -n 30 "$out/build.log" >&2
    fail "build" "compile failed" "see $out/build.log"; }
unset LD_LIBRARY_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
for binary in runtime/cog-server runtime/cog-worker bench/cog-gpu-probe; do
  if ldd "$build_dir/$binary" | grep -q 'not found'; then
    ldd "$build_dir/$binary" | grep 'not found' >&2
    fail "$binary" "libraries not found at run time" "see the RPATH (readelf -d)"
  fi
done
{
  echo "## where the build found its dependencies"
  grep -E '^(CURL_INCLUDE_DIR|CURL_LIBRARY_RELEASE|LibArchive_INCLUDE_DIR|LibArchive_LIBRARY|yaml-cpp_DIR|CLI11_DIR|nlohmann_json_DIR|pybind11_DIR|Python_EXECUTABLE|Python_INCLUDE_DIR|Python_LIBRARY_RELEASE|OPENSSL_INCLUDE_DIR|ZLIB_INCLUDE_DIR|PKG_CONFIG_EXECUTABLE|HTTPLIB_INCLUDEDIR)[:=]' \
    "$build_dir/CMakeCache.txt" || true
  echo "## cog-server's libraries"; ldd "$build_dir/runtime/cog-server"
  echo "## cog-worker's libraries"; ldd "$build_dir/runtime/cog-worker"
} >"$out/build-deps.txt"
phase "built (dependencies: $out/build-deps.txt)"

# 5. The real Cog runtime: cog + coglet wheels into a --target dir, offline from the bundle.
coglet_site=/tmp/cog-gpu-check/coglet-site
if [ ! -e "$coglet_site/.ok" ]; then
  rm -rf "$coglet_site"
  pip_from=(--no-index --find-links "$bundle/wheels")
  [ -d "$bundle/wheels" ] || pip_from=()  # no bundle: PyPI (a machine with network)
  if "$python" -m pip install --quiet --disable-pip-version-check --no-compile --target "$coglet_site" \
      "${pip_from[@]}" cog==0.23.1 coglet==0.23.1 >"$out/coglet-install.log" 2>&1; then
    touch "$coglet_site/.ok"
  fi
fi
coglet_args=()
if [ -e "$coglet_site/.ok" ]; then
  coglet_args=(--coglet-site "$coglet_site")
  phase "cog and coglet 0.23.1 in $coglet_site"
else
  phase "WARNING: cog/coglet could not be installed (see $out/coglet-install.log): no side-by-side measurement"
fi

# 6. The checks.
bench_args=()
((quick)) && bench_args=(--requests 60 --rounds 2 --starts 1 --warmup 5)
phase "running the checks on $device"
status=0
PYTHONUNBUFFERED=1 "$python" "$source_dir/bench/gpu/check.py" --build-dir "$build_dir" --python "$python" \
  --device "$device" --out "$out" "${coglet_args[@]}" "${bench_args[@]}" || status=$?
phase "done: $out/results.md, $out/results.json (exit $status)"
exit "$status"
