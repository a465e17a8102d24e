// MaxUnpool: scatters values to the positions a MaxPool's indices name.
#include "framework/error.h"
#include "ops/pool/naive.h"
#include "ops/pool/pool.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mininn::pool {
namespace {

class NaiveUnpool final : public Kernel {
 public:
  explicit NaiveUnpool(Geometry geometry) : geometry_(geometry) {}

  void forward(const ForwardArgs& args) const override {
    unpool_forward(geometry_, args.inputs[0].f32(), args.inputs[1].i64(), args.outputs[0].f32());
  }
  void backward(const BackwardArgs& args) const override {
    if (args.grad_inputs[0].defined())
      unpool_backward(geometry_, args.grad_outputs[0].f32(), args.inputs[1].i64(), args.grad_inputs[0].f32());
  }

 private:
  Geometry geometry_;
};

class MaxUnpool final : public Op {
 public:
  MaxUnpool(int rank, const Attrs& attrs) : rank_(rank), fn_(spatial_name("max_unpool", rank)) {
    kernel_ = attrs.ints("kernel_size");
    stride_ = attrs.is_null("stride") ? kernel_ : attrs.ints("stride");
    padding_ = attrs.ints("padding");
    for (int64_t s : stride_)
      if (s <= 0) throw attrs.error("stride", fmt::format("strides should be greater than zero, but got stride: {}", stride_));
    if (!attrs.is_null("output_size")) {
      output_size_ = attrs.list("output_size");
      size_t n = output_size_.size();
      if (n != static_cast<size_t>(rank) && n != static_cast<size_t>(rank) + 2)
        throw attrs.error("output_size",
                          fmt::format("output_size should be a sequence containing {} or {} elements, but it has a "
                                      "length of '{}'",
                                      rank, rank + 2, n));
      output_size_.erase(output_size_.begin(), output_size_.end() - rank);  // N and C entries are not checked
    }
  }

  bool differentiable_input(int index) const override { return index == 0; }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    const TensorDesc &input = inputs[0], &indices = inputs[1];
    size_t r = static_cast<size_t>(rank_);
    check(input.shape.size() == r + 1 || input.shape.size() == r + 2,
          "{}: Input should be a {}d or {}d Tensor, but got a tensor with {} dimensions", fn_, r + 1, r + 2,
          input.shape.size());
    check(input.dtype == DType::Float32, "{}: expected a float32 input, but got {}", fn_, dtype_name(input.dtype));
    check(indices.dtype == DType::Int64, "{}: elements in indices should be type int64 but got: {}", fn_,
          dtype_name(indices.dtype));
    check(indices.shape == input.shape,
          "{}: Expected shape of indices to be same as that of the input tensor ({}) but got indices tensor with "
          "shape: {}",
          fn_, to_string(input.shape), to_string(indices.shape));
    Layout layout = split(input.shape, rank_);
    for (int64_t extent : layout.spatial)
      check(extent > 0, "{}: Expected input to have non-zero size for non-batch dimensions, but got {}", fn_,
            to_string(input.shape));
    check(layout.channels > 0, "{}: Expected input to have non-zero size for non-batch dimensions, but got {}", fn_,
          to_string(input.shape));
    return {TensorDesc{DType::Float32, join(layout, out_spatial(layout.spatial))}};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    const Shape& input = config.inputs[0].shape;
    Geometry g = planes_only(input, rank_, out_spatial(split(input, rank_).spatial));
    auto kernel = std::make_unique<NaiveUnpool>(g);
    kernel->dispatch.reason = "oneDNN has no unpooling primitive";
    return kernel;
  }

 private:
  // The default size, or output_size checked against it as PyTorch's
  // _unpool_output_size does: strictly between default-stride and default+stride.
  Shape out_spatial(const Shape& in) const {
    Shape out;
    for (int i = 0; i < rank_; ++i) out.push_back(unpool_default_size(in[i], kernel_[i], stride_[i], padding_[i]));
    if (!output_size_.empty()) {
      for (int i = 0; i < rank_; ++i) {
        int64_t low = out[i] - stride_[i], high = out[i] + stride_[i];
        check(low < output_size_[i] && output_size_[i] < high,
              "{}: invalid output_size \"{}\" (dim {} must be between {} and {})", fn_, output_size_, i, low, high);
      }
      out = output_size_;
    }
    for (int64_t extent : out)
      check(extent > 0, "{}: the output size {} must be positive (kernel_size={}, stride={}, padding={})", fn_, out,
            kernel_, stride_, padding_);
    return out;
  }

  int rank_;
  std::string fn_;
  std::vector<int64_t> kernel_, stride_, padding_, output_size_;
};

}  // namespace

std::unique_ptr<Op> make_max_unpool(int rank, const Attrs& attrs) { return std::make_unique<MaxUnpool>(rank, attrs); }

}  // namespace mininn::pool
