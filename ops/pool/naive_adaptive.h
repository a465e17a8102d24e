// The plain loops behind the adaptive pools of naive.h, one plane at a
// time: PyTorch's semantics as the spec writes them, the fallback for what
// the 16-plane kernels do not cover (planes left over from groups of 16,
// planes too large for their scratch, CPUs without AVX-512), and the
// reference those kernels are tested against bit for bit
// (tests/unit/test_pool_adaptive_fast.cpp). Internal to ops/pool.
#pragma once

#include "ops/pool/geometry.h"

#include <cstdint>

namespace mininn::pool::scalar {

void adaptive_avg_forward(const Geometry& g, const float* x, float* y);
void adaptive_avg_backward(const Geometry& g, const float* gy, float* gx);
void adaptive_max_forward(const Geometry& g, const float* x, float* y, int64_t* indices);

}  // namespace mininn::pool::scalar
