// The naive kernels of the pooling family: loops over canonical (D, H, W)
// planes, exactly PyTorch's CPU semantics (scan order, ties, NaN, divisors).
// They are the fallback of every oneDNN kernel and the reference the oneDNN
// kernels are tested against. MaxPool and AvgPool run fast paths
// (naive_fast.h) where they apply, the plain loops of namespace `reference`
// elsewhere; both give the same bits.
#pragma once

#include "ops/pool/geometry.h"

#include <cstdint>

namespace mininn::pool {

// Max over each window; `indices` (may be null) receives the flat in-plane
// index of the first maximum in scan order, or of the last NaN.
void max_forward(const Geometry& g, const float* x, float* y, int64_t* indices);

// gx = 0, then gx[plane][indices[o]] += gy[o]. Used by every max-type pool
// (MaxPool, AdaptiveMaxPool, FractionalMaxPool): the indices say it all.
void max_backward(const Geometry& g, const float* gy, const int64_t* indices, float* gx);

struct AvgOptions {
  bool count_include_pad = true;
  int64_t divisor_override = 0;  // 0: none
};
void avg_forward(const Geometry& g, const AvgOptions& options, const float* x, float* y);
void avg_backward(const Geometry& g, const AvgOptions& options, const float* gy, float* gx);

// What PyTorch divides window (d, h, w)'s sum by.
float divisor(const AvgOptions& options, const AvgSpan& d, const AvgSpan& h, const AvgSpan& w);

// Adaptive pools: axes carry only in/out; windows from adaptive_start/end.
// (naive_adaptive.cpp: the plain loops, and the same loops on 16 planes per
// AVX-512 vector for whole groups of 16 planes.)
void adaptive_avg_forward(const Geometry& g, const float* x, float* y);
void adaptive_avg_backward(const Geometry& g, const float* gy, float* gx);
void adaptive_max_forward(const Geometry& g, const float* x, float* y, int64_t* indices);

// Whether the kernels above run g 16 planes per vector: an AVX-512 CPU, 16
// planes or more, and planes small enough for the vectors' scratch (or one
// output per plane: a global average). Then they beat oneDNN's plain-layout
// pooling in every case measured, and Backend::Auto picks them.
bool adaptive_avg_on_lanes(const Geometry& g);
bool adaptive_max_on_lanes(const Geometry& g);

// MaxUnpool: y = 0, y[plane][indices[j]] = x[j] (the last write wins);
// backward gathers gx[j] = gy[plane][indices[j]]. Indices are checked first:
// an index outside the output plane is an Error, never a wild write.
// Geometry: axes in = pooled size, out = unpooled size.
void unpool_forward(const Geometry& g, const float* x, const int64_t* indices, float* y);
void unpool_backward(const Geometry& g, const float* gy, const int64_t* indices, float* gx);
void check_unpool_indices(const Geometry& g, const int64_t* indices);

// The plain loops behind max_forward, max_backward, avg_forward and
// avg_backward, one window (or plane) at a time: the readable statement of
// the semantics, and what the fast paths are tested against.
namespace reference {
void max_forward(const Geometry& g, const float* x, float* y, int64_t* indices);
void max_backward(const Geometry& g, const float* gy, const int64_t* indices, float* gx);
void avg_forward(const Geometry& g, const AvgOptions& options, const float* x, float* y);
void avg_backward(const Geometry& g, const AvgOptions& options, const float* gy, float* gx);
}  // namespace reference

}  // namespace mininn::pool
