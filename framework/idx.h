// MNIST-style IDX files (Yann LeCun's format, used by MNIST and
// Fashion-MNIST), gzip-compressed or not: a big-endian header — two zero
// bytes, an element-type code, the number of dimensions — then one
// big-endian uint32 per dimension, then the elements in C order.
//
// Element types: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D
// float32, 0x0E float64. A truncated, corrupt or oversized file is an Error
// naming it.
#pragma once

#include "framework/tensor.h"

#include <string>

namespace mininn {

// True when the file starts with an IDX header or a gzip header (so the
// trainer can tell IDX from .npy by content rather than by name).
bool looks_like_idx(const std::string& path);

// Reads an IDX file as `want`: Float32 converts every element to float and
// divides it by `divisor` (uint8 pixels with 255 give [0, 1], the same
// floats as torch's `x.float() / 255`); Int64 accepts the integer types only.
Tensor read_idx(const std::string& path, DType want, float divisor = 1.0f);

}  // namespace mininn
