// Shapes, element types and the checked arithmetic on them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mininn {

enum class DType { Float32, Int64 };

const char* dtype_name(DType dtype);  // "float32", "int64"
size_t dtype_size(DType dtype);

using Shape = std::vector<int64_t>;

// A leading batch dimension declared `null` in a model is unknown until run
// time; shape inference carries it as kDynamic and every op passes it through.
inline constexpr int64_t kDynamic = -1;

std::string to_string(const Shape& shape);  // "[1, 2, 3]", a dynamic dim as "N"

// Element count, throwing a clear Error on overflow or a negative extent.
int64_t checked_numel(const Shape& shape);

// a * b, throwing on int64 overflow (what: which quantity, for the message).
int64_t checked_mul(int64_t a, int64_t b, const char* what = "size");

// Element type and shape of a value, known before anything runs.
struct TensorDesc {
  DType dtype = DType::Float32;
  Shape shape;

  bool operator==(const TensorDesc&) const = default;
};

std::string to_string(const TensorDesc& desc);  // "float32[1, 2, 3]"

}  // namespace mininn
