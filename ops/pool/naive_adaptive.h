// The plain loops behind the adaptive pools and MaxUnpool of naive.h, one
// plane at a time: they are PyTorch's semantics as written in the spec, the
// fallback for what the fast kernels do not cover (planes left over from
// groups of 16, planes too large for their scratch), and the reference the
// fast kernels are tested against bit for bit (tests/unit/
// test_pool_adaptive_fast.cpp). Internal to ops/pool.
#pragma once

#include "ops/pool/geometry.h"

#include <cstdint>

namespace mininn::pool::scalar {

void adaptive_avg_forward(const Geometry& g, const float* x, float* y);
void adaptive_avg_backward(const Geometry& g, const float* gy, float* gx);
void adaptive_max_forward(const Geometry& g, const float* x, float* y, int64_t* indices);

// No index check: callers check first (pool::check_unpool_indices).
void unpool_forward(const Geometry& g, const float* x, const int64_t* indices, float* y);

}  // namespace mininn::pool::scalar
