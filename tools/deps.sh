#!/usr/bin/env bash
# Installs spinescope's Debian 12 build and test dependencies with apt-get (idempotent).
# usage: deps.sh [--test]   --test also installs what only the test suite uses: chromium (the report.html
#                           browser check) and python3-pil (its screenshot statistics).
set -euo pipefail
# libfftw3-dev: ITK's exported FFT module links -lfftw3* (only Recommended by libinsighttoolkit5-dev, and we
# install without recommends).
packages=(build-essential cmake ninja-build pkg-config
          libopencv-dev libinsighttoolkit5-dev libtbb-dev libboost-filesystem-dev libtiff-dev
          libgtest-dev libbenchmark-dev libfftw3-dev
          python3 python3-numpy python3-tifffile)
case "${1:-}" in
  "") ;;
  --test) packages+=(chromium python3-pil) ;;
  *) echo "usage: $0 [--test]" >&2; exit 64 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "spinescope: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
