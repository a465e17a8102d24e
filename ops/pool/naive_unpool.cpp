// MaxUnpool, mininn's own kernels (no oneDNN primitive unpools): a scatter
// forward and a gather backward, after a check that every index lies in
// its output plane.
#include "framework/error.h"
#include "framework/parallel.h"
#include "ops/pool/naive.h"
#include "ops/pool/naive_adaptive.h"

#include <cstring>
#include <string>

namespace mininn::pool {

void check_unpool_indices(const Geometry& g, const int64_t* indices) {
  const int64_t out_plane = g.out_plane();
  const int64_t count = g.planes * g.in_plane();
  int64_t bad_at = -1;
  for (int64_t j = 0; j < count; ++j) {
    if (indices[j] < 0 || indices[j] >= out_plane) {
      bad_at = j;
      break;
    }
  }
  if (bad_at >= 0) {
    std::string size;
    for (const Axis& axis : g.axes)
      if (!size.empty() || axis.out != 1) size += (size.empty() ? "" : "x") + std::to_string(axis.out);
    if (size.empty()) size = "1";
    fail("Found an invalid max index: {} (output volumes are of size {}) at position {} of the indices",
         indices[bad_at], size, bad_at);
  }
}

namespace scalar {

void unpool_forward(const Geometry& g, const float* x, const int64_t* indices, float* y) {
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

}  // namespace scalar

void unpool_forward(const Geometry& g, const float* x, const int64_t* indices, float* y) {
  check_unpool_indices(g, indices);
  scalar::unpool_forward(g, x, indices, y);
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
