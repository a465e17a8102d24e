// Tensors: dense, row-major (C order) arrays of float32 or int64.
//
//   mininn::Tensor x = mininn::Tensor::zeros({1, 3, 32, 32});   // the library allocates
//   x.floats()[0] = 1.5f;
//
//   std::vector<float> pixels(3 * 32 * 32);                      // the caller allocates
//   mininn::Tensor view = mininn::Tensor::wrap(std::span(pixels), {1, 3, 32, 32});
//
// A Tensor is a handle: copying it shares the data (clone() copies). A
// wrapped tensor views the caller's memory without copying it — the caller
// keeps that memory alive while the library may read it (for a session input:
// until the next forward). A tensor crossing the API is always dense and
// row-major; any other layout an executor uses stays inside it.
#pragma once

#include <mininn/config.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mininn {

enum class DType { Float32, Int64 };

MININN_API const char* dtype_name(DType dtype);  // "float32", "int64"
MININN_API size_t dtype_size(DType dtype);       // 4, 8

using Shape = std::vector<int64_t>;

// A leading batch dimension declared `null` in a model (or kDynamic in the
// builder) is chosen when the model is compiled; until then shapes carry it
// as kDynamic.
inline constexpr int64_t kDynamic = -1;

MININN_API std::string to_string(const Shape& shape);  // "[1, 2, 3]", a dynamic dim as "N"

// Element type and shape of a value.
struct TensorDesc {
  DType dtype = DType::Float32;
  Shape shape;

  bool operator==(const TensorDesc&) const = default;
};

MININN_API std::string to_string(const TensorDesc& desc);  // "float32[1, 2, 3]"

class MININN_API Tensor {
 public:
  Tensor() = default;  // an empty handle: defined() is false

  // Uninitialised storage, 64-byte aligned. Throws Error if the shape is
  // negative, overflows or exceeds max_tensor_bytes().
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
  static Tensor full(const Shape& shape, float value);
  // A view of memory owned by the caller, who keeps it alive. No copy is made.
  static Tensor wrap(void* data, const Shape& shape, DType dtype);
  // The same with the element type and the size checked: `data` must hold
  // exactly the shape's element count.
  static Tensor wrap(std::span<float> data, const Shape& shape);
  static Tensor wrap(std::span<int64_t> data, const Shape& shape);

  bool defined() const { return defined_; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_[i]; }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }
  TensorDesc desc() const { return {dtype_, shape_}; }

  // Typed access; throws Error when the tensor holds the other type.
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

  Tensor clone() const;  // a copy the library owns
  // Same storage, another shape with the same element count.
  Tensor reshaped(const Shape& shape) const;
  void fill(float value);
  void zero();
  // True when this handle owns its storage and no other handle shares it
  // (an Execution reuses an output buffer the caller no longer holds).
  bool sole_owner() const { return storage_ && storage_.use_count() == 1; }

 private:
  std::shared_ptr<std::byte> storage_;  // empty for a wrapped tensor
  std::byte* data_ = nullptr;
  Shape shape_;
  int64_t numel_ = 0;
  DType dtype_ = DType::Float32;
  bool defined_ = false;
};

// The largest tensor the library will allocate (default 16 GiB): a hostile
// shape in a model or file fails with a clear Error before any allocation.
MININN_API size_t max_tensor_bytes();
MININN_API void set_max_tensor_bytes(size_t bytes);

// The most one model or compiled graph may hold (default 64 GiB): its
// parameters and every value (and, compiled for backward, their gradients),
// added up from the inferred shapes when a model is loaded or compiled,
// before any of it is allocated.
MININN_API size_t max_graph_bytes();
MININN_API void set_max_graph_bytes(size_t bytes);

}  // namespace mininn
