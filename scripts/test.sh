#!/usr/bin/env bash
# Every test on a fresh machine: install what is missing (PyTorch included,
# the oracle), build, run the whole suite (unit, PyTorch differential,
# gradient checks, CLI), then again under ASan+UBSan, then the concurrency
# test under ThreadSanitizer and a short run of each fuzz target
# (scripts/test-reliability.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --tests
build=${MININN_BUILD_DIR:-build}
MININN_BUILD_DIR=$build scripts/build.sh -DMININN_BUILD_TESTS=ON -DMININN_WERROR=ON
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
if [[ "${MININN_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "test: ASan+UBSan build"
  # -O1, assertions on: half the build time of -O3 with its target clones
  # (CI's longest step), and the instrumented suite runs about as fast.
  MININN_BUILD_DIR=$build-asan scripts/build.sh -DMININN_BUILD_TESTS=ON -DMININN_SANITIZE=ON -DMININN_WERROR=ON \
    -DCMAKE_CXX_FLAGS_RELEASE=-O1
  ASAN_OPTIONS=detect_leaks=1 ctest --test-dir "$build-asan" --output-on-failure -L sanitize
  scripts/test-reliability.sh "$build"
fi
echo "test: all passed"
