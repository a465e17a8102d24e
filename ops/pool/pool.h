// The pooling family: MaxPool, AvgPool, LPPool, AdaptiveMaxPool,
// AdaptiveAvgPool, MaxUnpool and FractionalMaxPool, each in 1d/2d/3d from one
// N-d implementation. Schemas live in register.cpp, window arithmetic in
// geometry.h, loops in naive.h, oneDNN primitives in onednn.h.
#pragma once

#include "ops/op.h"
#include "ops/pool/geometry.h"

#include <memory>
#include <string>

namespace mininn::pool {

std::unique_ptr<Op> make_max_pool(int rank, const Attrs& attrs);
std::unique_ptr<Op> make_avg_pool(int rank, const Attrs& attrs);
std::unique_ptr<Op> make_adaptive_max_pool(int rank, const Attrs& attrs);
std::unique_ptr<Op> make_adaptive_avg_pool(int rank, const Attrs& attrs);
std::unique_ptr<Op> make_max_unpool(int rank, const Attrs& attrs);
std::unique_ptr<Op> make_lp_pool(int rank, const Attrs& attrs);
std::unique_ptr<Op> make_fractional_max_pool(int rank, const Attrs& attrs);  // rank 2 or 3

// Shared checks, with PyTorch's messages. `fn` is the functional name used
// in messages ("max_pool2d").

// A float32 input of rank `rank`+1 (unbatched) or `rank`+2, with non-zero
// channels and spatial sizes (a zero or dynamic batch is fine).
Layout check_input(const TensorDesc& input, int rank, const std::string& fn);

// kernel_size/stride/padding(/dilation)/ceil_mode from attrs, stride null
// meaning the kernel size.
Window parse_window(const Attrs& attrs, bool has_dilation);

// Stride, padding, kernel and dilation rules of PyTorch's pooling_output_shape
// and pool shape checks, then the output size: every axis at least 1, and
// every window reaching into the input.
void check_window(const Window& window, const Layout& input, const std::string& fn);

// Output spatial sizes of a sliding window over `spatial`.
Shape sliding_output(const Window& window, const Shape& spatial);

// Indices outputs are int64 and carry no gradient.
inline TensorDesc indices_like(const TensorDesc& values) { return {DType::Int64, values.shape}; }

}  // namespace mininn::pool
