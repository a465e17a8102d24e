#include "framework/shape.h"

#include "framework/error.h"

namespace mininn {

const char* dtype_name(DType dtype) { return dtype == DType::Float32 ? "float32" : "int64"; }

size_t dtype_size(DType dtype) { return dtype == DType::Float32 ? 4 : 8; }

std::string to_string(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += shape[i] == kDynamic ? std::string("N") : std::to_string(shape[i]);
  }
  return out + "]";
}

std::string to_string(const TensorDesc& desc) { return dtype_name(desc.dtype) + to_string(desc.shape); }

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) fail("{} overflows int64 ({} x {})", what, a, b);
  return product;
}

int64_t checked_numel(const Shape& shape) {
  int64_t count = 1;
  for (int64_t extent : shape) {
    if (extent == kDynamic) continue;  // counted as 1 until the batch is known
    check(extent >= 0, "negative dimension {} in shape {}", extent, to_string(shape));
    count = checked_mul(count, extent, "element count");
  }
  return count;
}

size_t checked_bytes(const TensorDesc& desc) {
  return static_cast<size_t>(checked_numel(desc.shape)) * dtype_size(desc.dtype);
}

Shape with_batch(Shape shape, int64_t batch) {
  if (!shape.empty() && shape[0] == kDynamic) shape[0] = batch;
  return shape;
}

}  // namespace mininn
