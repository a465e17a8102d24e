// Shapes, element types and the checked arithmetic on them. DType, Shape,
// kDynamic and TensorDesc are public (include/mininn/tensor.h).
#pragma once

#include <mininn/tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mininn {

// Element count, throwing a clear Error on overflow or a negative extent.
int64_t checked_numel(const Shape& shape);

// Bytes of a tensor so described, with checked_numel's checks.
size_t checked_bytes(const TensorDesc& desc);

// `shape` with a leading kDynamic batch replaced by `batch`.
Shape with_batch(Shape shape, int64_t batch);

// a * b, throwing on int64 overflow (what: which quantity, for the message).
int64_t checked_mul(int64_t a, int64_t b, const char* what = "size");

}  // namespace mininn
