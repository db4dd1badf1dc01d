#!/usr/bin/env bash
# One command on a fresh Debian machine: install the dependencies, build grokscope,
# and run the demo (a small run that groks). `./setup.sh --deps-only` stops after
# installing the packages.
set -euo pipefail
cd "$(dirname "$0")"
PACKAGES="build-essential meson ninja-build pkg-config libopenblas-dev libfftw3-dev
          libhdf5-dev hdf5-tools gnuplot-nox python3 python3-h5py python3-numpy
          zlib1g-dev dataset-fashion-mnist help2man bash-completion man-db"
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $PACKAGES 2>/dev/null | grep -v "install ok installed" | cut -d' ' -f1 || true)
for p in $PACKAGES; do dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$(echo $missing)" ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $PACKAGES
fi
[ "${1:-}" = "--deps-only" ] && exit 0
[ -d build ] || meson setup build
ninja -C build
./build/src/grokscope demo grokscope-demo
