#!/usr/bin/env bash
# Installs every build and test dependency on a fresh Debian 12 (bookworm) machine.
# Idempotent: re-running it only installs what is missing.
set -euo pipefail

debian_packages=(
  build-essential cmake pkg-config git ca-certificates curl
  libcli11-dev libyaml-cpp-dev libcurl4-openssl-dev nlohmann-json3-dev libarchive-dev
  libcpp-httplib-dev pybind11-dev doctest-dev libssl-dev zlib1g-dev libre2-dev
  python3 python3-dev python3-venv python3-pip python3-pytest python3-requests
  clang libclang-rt-14-dev clang-format
  docker-registry apache2-utils runc crun skopeo umoci debootstrap
  tini  # /usr/bin/tini-static: the init added to --base-image bases that have none
  patchelf  # tests only: turns a pyenv build into a relocatable python-build-standalone-style archive
  docker.io  # interop peer only (cog run --runtime docker, build --load tests); cog never needs it
  chromium chromium-driver python3-selenium  # tests only: tests/e2e/test_playground.py drives the page
)

missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -qqy --no-install-recommends "${missing[@]}"
fi

# docker-registry's package starts a service; the tests start their own registries instead.
if command -v service >/dev/null 2>&1; then service docker-registry stop >/dev/null 2>&1 || true; fi
# Likewise docker.io: tests start a private dockerd (tests/e2e/docker_helpers.py).
if command -v service >/dev/null 2>&1; then service docker stop >/dev/null 2>&1 || true; fi
