// The Tensor is public (include/mininn/tensor.h): dense, row-major float32 or
// int64, shared storage, or a view of memory the caller owns. This header adds
// what only the library needs.
#pragma once

#include "framework/shape.h"

#include <mininn/tensor.h>

#include <string>

namespace mininn {

// Throws unless `bytes` fits the limit; `what` names the tensor for the message.
void check_tensor_bytes(const Shape& shape, DType dtype, const std::string& what = "tensor");

}  // namespace mininn
