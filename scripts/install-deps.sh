#!/usr/bin/env bash
# Installs, from Debian 12's packages, whatever mininn needs and this machine
# lacks. Safe to run again: it does nothing when everything is present.
#   scripts/install-deps.sh            build + run dependencies
#   scripts/install-deps.sh --tests    also the test oracle (PyTorch) and tools
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libdnnl-dev ocl-icd-opencl-dev   # oneDNN 2.6; Debian builds it with OpenCL
  nlohmann-json3-dev libfmt-dev libcli11-dev
  libpng-dev libjpeg62-turbo-dev libstb-dev
  zlib1g-dev                       # IDX datasets, gzipped or not
)
if [[ "${1:-}" == "--tests" ]]; then
  packages+=(
    libgtest-dev libgmock-dev
    python3 python3-numpy python3-torch python3-pil   # the oracle: /usr/bin/python3
    python3-sklearn                                   # the digits example's data (examples/digits)
    python3-matplotlib                                # bench/run.py's chart (docs/images/performance.png)
    clang libclang-rt-14-dev libomp-14-dev            # fuzz targets: libFuzzer, ASan/UBSan runtimes, clang's OpenMP
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
