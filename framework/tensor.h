// A dense, contiguous (row-major) tensor of float32 or int64.
//
// Storage is shared: copying a Tensor copies a handle, not the data (use
// clone() for that). A Tensor may also view memory the caller owns.
#pragma once

#include "framework/shape.h"

#include <cstddef>
#include <memory>
#include <span>

namespace mininn {

class Tensor {
 public:
  Tensor() = default;  // an empty handle: defined() is false

  // Uninitialised storage, 64-byte aligned. Throws if the shape overflows or
  // exceeds max_tensor_bytes().
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
  static Tensor full(const Shape& shape, float value);
  // A view of memory owned by the caller, who keeps it alive.
  static Tensor wrap(void* data, const Shape& shape, DType dtype);

  bool defined() const { return defined_; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_[i]; }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }
  TensorDesc desc() const { return {dtype_, shape_}; }

  float* f32();
  const float* f32() const;
  int64_t* i64();
  const int64_t* i64() const;
  void* raw() { return data_; }
  const void* raw() const { return data_; }

  std::span<float> floats() { return {f32(), static_cast<size_t>(numel_)}; }
  std::span<const float> floats() const { return {f32(), static_cast<size_t>(numel_)}; }
  std::span<int64_t> ints() { return {i64(), static_cast<size_t>(numel_)}; }
  std::span<const int64_t> ints() const { return {i64(), static_cast<size_t>(numel_)}; }

  Tensor clone() const;
  // Same storage, another shape with the same element count.
  Tensor reshaped(const Shape& shape) const;
  void fill(float value);
  void zero();

 private:
  std::shared_ptr<std::byte> storage_;
  std::byte* data_ = nullptr;
  Shape shape_;
  int64_t numel_ = 0;
  DType dtype_ = DType::Float32;
  bool defined_ = false;
};

// The largest tensor the library will allocate (default 16 GiB): a hostile
// shape in a model or file fails with a clear error before any allocation.
size_t max_tensor_bytes();
void set_max_tensor_bytes(size_t bytes);

// Throws unless `bytes` fits the limit; `what` names the tensor for the message.
void check_tensor_bytes(const Shape& shape, DType dtype, const std::string& what = "tensor");

}  // namespace mininn
