// MaxPool and AvgPool: sliding windows with padding, dilation and ceil_mode.
#include "framework/error.h"
#include "ops/pool/naive.h"
#include "ops/pool/onednn.h"
#include "ops/pool/pool.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mininn::pool {
namespace {

std::string sizes_text(int64_t channels, const Shape& spatial) {
  std::string out = std::to_string(channels);
  for (int64_t extent : spatial) out += "x" + std::to_string(extent);
  return out;
}

}  // namespace

Layout check_input(const TensorDesc& input, int rank, const std::string& fn) {
  const Shape& shape = input.shape;
  size_t r = static_cast<size_t>(rank);
  bool rank_ok = shape.size() == r + 1 || shape.size() == r + 2;
  bool sizes_ok = rank_ok;
  for (size_t i = shape.size() == r + 2 ? 1 : 0; rank_ok && i < shape.size(); ++i) sizes_ok = sizes_ok && shape[i] > 0;
  check(rank_ok && sizes_ok,
        "{}: Expected {}D or {}D (batch mode) tensor with optional 0 dim batch size for input, but got: {}", fn,
        r + 1, r + 2, to_string(shape));
  check(input.dtype == DType::Float32, "{}: expected a float32 input, but got {}", fn, dtype_name(input.dtype));
  return split(shape, rank);
}

Window parse_window(const Attrs& attrs, bool has_dilation) {
  Window window;
  window.kernel = attrs.ints("kernel_size");
  window.stride = attrs.is_null("stride") ? window.kernel : attrs.ints("stride");
  window.padding = attrs.ints("padding");
  window.dilation = has_dilation ? attrs.ints("dilation") : std::vector<int64_t>(window.kernel.size(), 1);
  window.ceil_mode = attrs.boolean("ceil_mode");
  return window;
}

Shape sliding_output(const Window& window, const Shape& spatial) {
  Shape out;
  for (size_t i = 0; i < spatial.size(); ++i)
    out.push_back(output_size(spatial[i], window.kernel[i], window.stride[i], window.padding[i], window.dilation[i],
                              window.ceil_mode));
  return out;
}

void check_window(const Window& window, const Layout& input, const std::string& fn) {
  const size_t rank = window.kernel.size();
  for (size_t i = 0; i < rank; ++i) check(window.stride[i] != 0, "{}: stride should not be zero", fn);
  for (size_t i = 0; i < rank; ++i) {
    int64_t pad = window.padding[i], kernel = window.kernel[i];
    check(pad >= 0, "{}: pad must be non-negative, but got pad: {}", fn, pad);
    check(pad <= kernel / 2, "{}: pad should be at most half of kernel size, but got pad={} and kernel_size={}", fn,
          pad, kernel);
  }
  for (size_t i = 0; i < rank; ++i)
    check(window.kernel[i] > 0, "{}: kernel size should be greater than zero, but got kernel_size={}", fn,
          window.kernel);
  for (size_t i = 0; i < rank; ++i)
    check(window.stride[i] > 0, "{}: stride should be greater than zero, but got stride={}", fn, window.stride);
  for (size_t i = 0; i < rank; ++i)
    check(window.dilation[i] > 0, "{}: dilation should be greater than zero, but got dilation={}", fn,
          window.dilation);

  Shape out = sliding_output(window, input.spatial);
  for (int64_t extent : out)
    check(extent >= 1, "{}: Given input size: ({}). Calculated output size: ({}). Output size is too small", fn,
          sizes_text(input.channels, input.spatial), sizes_text(input.channels, out));

  // PyTorch 1.13 indexes out of bounds for a dilated window with no tap
  // inside the input; mininn refuses the configuration instead.
  for (size_t i = 0; i < rank; ++i) {
    Axis axis{input.spatial[i], out[i], window.kernel[i], window.stride[i], window.padding[i], window.dilation[i]};
    for (int64_t o = 0; o < axis.out; ++o) {
      Taps t = taps(axis, o);
      check(t.first < t.last,
            "{}: output {} along spatial dimension {} has a window lying wholly in the padding (input size {}, "
            "kernel_size={}, padding={}, dilation={}); PyTorch 1.13 reads out of bounds here, mininn refuses it",
            fn, o, i, axis.in, axis.kernel, axis.pad, axis.dilation);
    }
  }
}

namespace {

// Indices kept for backward when the node does not output them.
struct SavedIndices final : KernelState {
  Tensor indices;
};

const int64_t* saved_indices(const KernelState* state) {
  check(state != nullptr, "internal error: backward without the indices of the forward pass");
  return static_cast<const SavedIndices*>(state)->indices.i64();
}

class NaiveMaxPool final : public Kernel {
 public:
  NaiveMaxPool(Geometry geometry, bool returns_indices, bool needs_backward, Shape out_shape)
      : geometry_(geometry),
        returns_indices_(returns_indices),
        needs_backward_(needs_backward),
        out_shape_(std::move(out_shape)) {}

  std::unique_ptr<KernelState> make_state() const override {
    if (returns_indices_ || !needs_backward_) return nullptr;
    auto state = std::make_unique<SavedIndices>();
    state->indices = Tensor::empty(out_shape_, DType::Int64);
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    int64_t* indices = nullptr;
    if (returns_indices_) indices = args.outputs[1].i64();
    else if (args.state) indices = static_cast<SavedIndices*>(args.state)->indices.i64();
    max_forward(geometry_, args.inputs[0].f32(), args.outputs[0].f32(), indices);
  }

  void backward(const BackwardArgs& args) const override {
    const int64_t* indices = returns_indices_ ? args.outputs[1].i64() : saved_indices(args.state);
    max_backward(geometry_, args.grad_outputs[0].f32(), indices, args.grad_inputs[0].f32());
  }

 private:
  Geometry geometry_;
  bool returns_indices_, needs_backward_;
  Shape out_shape_;
};

class MaxPool final : public Op {
 public:
  MaxPool(int rank, const Attrs& attrs)
      : rank_(rank),
        fn_(spatial_name("max_pool", rank)),
        window_(parse_window(attrs, true)),
        return_indices_(attrs.boolean("return_indices")) {}

  int num_outputs() const override { return return_indices_ ? 2 : 1; }
  bool differentiable_output(int index) const override { return index == 0; }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    Layout layout = check_input(inputs[0], rank_, fn_);
    check_window(window_, layout, fn_);
    TensorDesc out{DType::Float32, join(layout, sliding_output(window_, layout.spatial))};
    if (return_indices_) return {out, indices_like(out)};
    return {out};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    Geometry geometry = sliding(config.inputs[0].shape, window_);
    return pick_kernel(
        config, [&](std::string& why) { return onednn::make_max_pool(geometry, window_, return_indices_, config, why); },
        [&] {
          return std::make_unique<NaiveMaxPool>(geometry, return_indices_, config.needs_backward,
                                                config.outputs[0].shape);
        });
  }

 private:
  int rank_;
  std::string fn_;
  Window window_;
  bool return_indices_;
};

class NaiveAvgPool final : public Kernel {
 public:
  NaiveAvgPool(Geometry geometry, AvgOptions options) : geometry_(geometry), options_(options) {}

  void forward(const ForwardArgs& args) const override {
    avg_forward(geometry_, options_, args.inputs[0].f32(), args.outputs[0].f32());
  }
  void backward(const BackwardArgs& args) const override {
    avg_backward(geometry_, options_, args.grad_outputs[0].f32(), args.grad_inputs[0].f32());
  }

 private:
  Geometry geometry_;
  AvgOptions options_;
};

class AvgPool final : public Op {
 public:
  AvgPool(int rank, const Attrs& attrs)
      : rank_(rank), fn_(spatial_name("avg_pool", rank)), window_(parse_window(attrs, false)) {
    options_.count_include_pad = attrs.boolean("count_include_pad");
    if (rank > 1 && !attrs.is_null("divisor_override")) {
      options_.divisor_override = attrs.integer("divisor_override");
      if (options_.divisor_override == 0) throw attrs.error("divisor_override", "divisor must be not zero");
    }
  }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    Layout layout = check_input(inputs[0], rank_, fn_);
    if (rank_ == 3) {
      bool fits = true;
      for (int i = 0; i < 3; ++i) fits = fits && layout.spatial[i] >= window_.kernel[i];
      check(fits, "{}: input image (T: {} H: {} W: {}) smaller than kernel size (kT: {} kH: {} kW: {})", fn_,
            layout.spatial[0], layout.spatial[1], layout.spatial[2], window_.kernel[0], window_.kernel[1],
            window_.kernel[2]);
    }
    check_window(window_, layout, fn_);
    return {TensorDesc{DType::Float32, join(layout, sliding_output(window_, layout.spatial))}};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    Geometry geometry = sliding(config.inputs[0].shape, window_);
    return pick_kernel(
        config, [&](std::string& why) { return onednn::make_avg_pool(geometry, window_, options_, config, why); },
        [&] { return std::make_unique<NaiveAvgPool>(geometry, options_); });
  }

 private:
  int rank_;
  std::string fn_;
  Window window_;
  AvgOptions options_;
};

}  // namespace

std::unique_ptr<Op> make_max_pool(int rank, const Attrs& attrs) { return std::make_unique<MaxPool>(rank, attrs); }
std::unique_ptr<Op> make_avg_pool(int rank, const Attrs& attrs) { return std::make_unique<AvgPool>(rank, attrs); }

}  // namespace mininn::pool
