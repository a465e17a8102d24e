// Fast paths of the naive sliding-window kernels (MaxPool, AvgPool): the
// same results as the reference loops of naive.cpp, bit for bit, computed
// row by row with vectorised loops and threads across rows. max_forward,
// avg_forward, max_backward and avg_backward (naive.h) take them when they
// apply; tests
// (tests/unit/test_pool_fast.cpp) call both and compare.
//
// Each returns false, having written nothing, when it does not cover the
// configuration; the caller then runs the reference loop.
#pragma once

#include "ops/pool/geometry.h"
#include "ops/pool/naive.h"

#include <cstdint>

namespace mininn::pool::fast {

bool max_forward(const Geometry& g, const float* x, float* y, int64_t* indices);
bool avg_forward(const Geometry& g, const AvgOptions& options, const float* x, float* y);
bool avg_backward(const Geometry& g, const AvgOptions& options, const float* gy, float* gx);
bool max_backward(const Geometry& g, const float* gy, const int64_t* indices, float* gx);

}  // namespace mininn::pool::fast
