// The activation family: element-wise functions and (log-)softmax.
#pragma once

#include "ops/registry.h"

#include <cstdint>

namespace mininn::activation {

void register_elementwise(Registry& registry);  // elementwise.cpp: ReLU, LeakyReLU, Sigmoid, Tanh
void register_softmax(Registry& registry);      // softmax.cpp: Softmax, LogSoftmax

// A ReLU or LeakyReLU fused into the op that produced `y` (Conv2d), applied
// in place with the very element rule of the standalone kernel, so fusing
// changes no bit. Elementwise::as_post_op names only these two.
void apply_post_op(const PostOp& post, float* y, int64_t count);

// torch's dim=None rule for softmax (the legacy _get_softmax_dim): 0 for
// 0-, 1- and 3-d inputs, else 1. Also used by the losses.
int legacy_softmax_dim(size_t rank);

// A dimension given as -rank..rank-1, made non-negative; PyTorch's message
// when out of range.
int64_t wrap_dim(int64_t dim, size_t rank);

// Softmax or log-softmax over the middle axis of an (outer, size, inner)
// view, in double. Shared with CrossEntropyLoss.
void softmax_forward(const float* x, float* y, int64_t outer, int64_t size, int64_t inner, bool log);

}  // namespace mininn::activation
