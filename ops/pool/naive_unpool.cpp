// MaxUnpool, mininn's own kernels (no oneDNN primitive unpools): a scatter
// forward and a gather backward, after a check that every index lies in
// its output plane.
#include "framework/error.h"
#include "framework/parallel.h"
#include "framework/simd.h"
#include "ops/pool/naive.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

namespace mininn::pool {

namespace {

// Whether any of `count` indices lies outside [0, size): one unsigned
// comparison per index (a negative one wraps to a huge value) and no early
// exit, so the loop vectorises.
MININN_MULTIVERSIONED bool any_out_of_range(const int64_t* indices, int64_t count, int64_t size) {
  const uint64_t limit = static_cast<uint64_t>(size);
  uint64_t out = 0;
  for (int64_t i = 0; i < count; ++i) out |= static_cast<uint64_t>(indices[i]) >= limit;
  return out != 0;
}

}  // namespace

// Blocks of indices are checked in parallel; the first bad block found by
// any thread bounds the search (a block after it cannot hold the first bad
// index), and the first bad index is then looked up in that block, so the
// error names the same position as a sequential scan.
void check_unpool_indices(const Geometry& g, const int64_t* indices) {
  constexpr int64_t kBlock = int64_t{1} << 14;
  const int64_t out_plane = g.out_plane();
  const int64_t count = g.planes * g.in_plane();
  const int64_t blocks = (count + kBlock - 1) / kBlock;
  std::atomic<int64_t> first_bad_block{blocks};
#pragma omp parallel for schedule(static) if (parallel_worth(count))
  for (int64_t b = 0; b < blocks; ++b) {
    if (b > first_bad_block.load(std::memory_order_relaxed)) continue;
    if (!any_out_of_range(indices + b * kBlock, std::min(kBlock, count - b * kBlock), out_plane)) continue;
    int64_t seen = first_bad_block.load();
    while (b < seen && !first_bad_block.compare_exchange_weak(seen, b)) {
    }
  }
  if (first_bad_block == blocks) return;
  int64_t bad_at = first_bad_block * kBlock;
  while (indices[bad_at] >= 0 && indices[bad_at] < out_plane) ++bad_at;
  std::string size;
  for (const Axis& axis : g.axes)
    if (!size.empty() || axis.out != 1) size += (size.empty() ? "" : "x") + std::to_string(axis.out);
  if (size.empty()) size = "1";
  fail("Found an invalid max index: {} (output volumes are of size {}) at position {} of the indices",
       indices[bad_at], size, bad_at);
}

void unpool_forward(const Geometry& g, const float* x, const int64_t* indices, float* y) {
  check_unpool_indices(g, indices);
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    float* yp = y + p * out_plane;
    std::memset(yp, 0, sizeof(float) * out_plane);
    const float* xp = x + p * in_plane;
    const int64_t* ip = indices + p * in_plane;
    for (int64_t j = 0; j < in_plane; ++j) yp[ip[j]] = xp[j];  // in order: the last duplicate wins
  }
}

void unpool_backward(const Geometry& g, const float* gy, const int64_t* indices, float* gx) {
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* gyp = gy + p * out_plane;
    const int64_t* ip = indices + p * in_plane;
    float* gp = gx + p * in_plane;
    for (int64_t j = 0; j < in_plane; ++j) gp[j] = gyp[ip[j]];
  }
}

}  // namespace mininn::pool
