#!/usr/bin/env bash
# The seed demo on a fresh machine: install what is missing, build, then run
# the tutorial's pipeline (5x5 sharpening conv -> max / avg / adaptive pools)
# on a real photo, writing .npy outputs and pictures to out/seed/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DMININN_BUILD_TESTS=OFF
build=${MININN_BUILD_DIR:-build}
"$build/mininn" inspect examples/seed/seed.json
"$build/mininn" run examples/seed/seed.json --input image=examples/seed/rocket.jpg --output-dir out/seed --png
echo "demo: pictures of the max, avg and adaptive outputs are in out/seed/*.png"
