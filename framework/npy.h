// NumPy .npy files (format versions 1.0, 2.0 and 3.0).
//
// Reading converts to mininn's two element types: float32, float64 and
// float16 arrays become float32; int64, int32 (and the other integer widths)
// become int64 — or float32 when `want` asks for it. Big-endian data, Fortran
// order, object arrays, unsupported dtypes and truncated or corrupt files are
// rejected with an Error naming the file and what is wrong.
#pragma once

#include "framework/tensor.h"

#include <optional>
#include <string>

namespace mininn {

// `want`: the element type the caller needs. Float32 accepts any float or
// integer array (converted); Int64 accepts integer arrays only. Without
// `want`, floats become float32 and integers int64.
Tensor read_npy(const std::string& path, std::optional<DType> want = std::nullopt);
Tensor parse_npy(const void* data, size_t size, const std::string& name, std::optional<DType> want = std::nullopt);

// Writes '<f4' or '<i8', C order, format 1.0, through a temporary file that
// is renamed into place, so a failure never leaves a half-written file.
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace mininn
