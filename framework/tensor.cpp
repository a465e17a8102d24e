#include "framework/tensor.h"

#include "framework/error.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

namespace mininn {
namespace {

std::atomic<size_t> g_max_tensor_bytes{size_t{16} << 30};
std::atomic<size_t> g_max_graph_bytes{size_t{64} << 30};

constexpr size_t kAlignment = 64;

void require(bool ok, DType have, DType want) {
  check(ok, "tensor holds {}, not {}", dtype_name(have), dtype_name(want));
}

}  // namespace

size_t max_tensor_bytes() { return g_max_tensor_bytes.load(); }
void set_max_tensor_bytes(size_t bytes) { g_max_tensor_bytes.store(bytes); }
size_t max_graph_bytes() { return g_max_graph_bytes.load(); }
void set_max_graph_bytes(size_t bytes) { g_max_graph_bytes.store(bytes); }

void check_tensor_bytes(const Shape& shape, DType dtype, const std::string& what) {
  int64_t bytes = checked_mul(checked_numel(shape), static_cast<int64_t>(dtype_size(dtype)), "tensor byte size");
  check(static_cast<size_t>(bytes) <= max_tensor_bytes(), "{} of shape {} needs {} bytes, over the limit of {} bytes",
        what, to_string(shape), bytes, max_tensor_bytes());
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t extent : shape) check(extent >= 0, "cannot allocate a tensor of shape {}", to_string(shape));
  check_tensor_bytes(shape, dtype);
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.numel_ = checked_numel(shape);
  size_t bytes = std::max<size_t>(t.nbytes(), 1);
  bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* memory = std::aligned_alloc(kAlignment, bytes);
  if (!memory) fail("out of memory allocating {} bytes for a tensor of shape {}", bytes, to_string(shape));
  t.storage_.reset(static_cast<std::byte*>(memory), [](std::byte* p) { std::free(p); });
  t.data_ = t.storage_.get();
  t.defined_ = true;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.zero();
  return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape, DType::Float32);
  t.fill(value);
  return t;
}

Tensor Tensor::wrap(void* data, const Shape& shape, DType dtype) {
  for (int64_t extent : shape) check(extent >= 0, "cannot wrap memory as a tensor of shape {}", to_string(shape));
  check(data != nullptr || checked_numel(shape) == 0, "cannot wrap a null pointer as a tensor of shape {}",
        to_string(shape));
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.numel_ = checked_numel(shape);
  t.data_ = static_cast<std::byte*>(data);
  t.defined_ = true;
  return t;
}

Tensor Tensor::wrap(std::span<float> data, const Shape& shape) {
  Tensor t = wrap(data.data(), shape, DType::Float32);
  check(static_cast<size_t>(t.numel_) == data.size(), "cannot wrap {} floats as a tensor of shape {} ({} elements)",
        data.size(), to_string(shape), t.numel_);
  return t;
}

Tensor Tensor::wrap(std::span<int64_t> data, const Shape& shape) {
  Tensor t = wrap(data.data(), shape, DType::Int64);
  check(static_cast<size_t>(t.numel_) == data.size(), "cannot wrap {} int64 values as a tensor of shape {} ({} elements)",
        data.size(), to_string(shape), t.numel_);
  return t;
}

float* Tensor::f32() {
  require(dtype_ == DType::Float32, dtype_, DType::Float32);
  return reinterpret_cast<float*>(data_);
}
const float* Tensor::f32() const {
  require(dtype_ == DType::Float32, dtype_, DType::Float32);
  return reinterpret_cast<const float*>(data_);
}
int64_t* Tensor::i64() {
  require(dtype_ == DType::Int64, dtype_, DType::Int64);
  return reinterpret_cast<int64_t*>(data_);
}
const int64_t* Tensor::i64() const {
  require(dtype_ == DType::Int64, dtype_, DType::Int64);
  return reinterpret_cast<const int64_t*>(data_);
}

Tensor Tensor::clone() const {
  Tensor copy = empty(shape_, dtype_);
  if (nbytes()) std::memcpy(copy.data_, data_, nbytes());
  return copy;
}

Tensor Tensor::reshaped(const Shape& shape) const {
  check(checked_numel(shape) == numel_, "cannot reshape {} elements to {}", numel_, to_string(shape));
  Tensor view = *this;
  view.shape_ = shape;
  return view;
}

void Tensor::fill(float value) { std::fill_n(f32(), numel_, value); }

void Tensor::zero() {
  if (nbytes()) std::memset(data_, 0, nbytes());
}

}  // namespace mininn
