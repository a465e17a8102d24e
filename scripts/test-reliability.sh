#!/usr/bin/env bash
# The reliability runs that need builds of their own (scripts/test.sh calls
# this after the ASan+UBSan suite; it also runs alone):
#   1. ThreadSanitizer: only the library and the concurrency test, built at
#      -O1, run with OMP_NUM_THREADS=1 (tests/reliability/CMakeLists.txt says why);
#   2. with clang: the libFuzzer targets, each fuzzing for
#      MININN_FUZZ_SMOKE_SECONDS (default 5) from its committed corpus.
#   scripts/test-reliability.sh [BUILD_PREFIX]   # build dirs: PREFIX-tsan, PREFIX-fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-build}
jobs=$(nproc)

echo "test-reliability: ThreadSanitizer build"
cmake -S . -B "$prefix-tsan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 -DMININN_TSAN=ON \
  -DMININN_BUILD_TESTS=ON -DMININN_WERROR=ON >/dev/null
cmake --build "$prefix-tsan" -j"$jobs" --target mininn_concurrency_tests
ctest --test-dir "$prefix-tsan" --output-on-failure -L tsan

if command -v clang++ >/dev/null; then
  echo "test-reliability: fuzz targets (clang, libFuzzer), ${MININN_FUZZ_SMOKE_SECONDS:-5} s each"
  cmake -S . -B "$prefix-fuzz" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMININN_FUZZ=ON \
    -DMININN_BUILD_TESTS=OFF -DMININN_WERROR=ON -DMININN_FUZZ_SMOKE_SECONDS="${MININN_FUZZ_SMOKE_SECONDS:-5}" >/dev/null
  cmake --build "$prefix-fuzz" -j"$jobs" --target fuzz_model fuzz_npy fuzz_safetensors fuzz_image fuzz_idx
  ctest --test-dir "$prefix-fuzz" --output-on-failure -L smoke
else
  echo "test-reliability: no clang++, fuzz smoke skipped (the corpus replays ran in the suites)"
fi
