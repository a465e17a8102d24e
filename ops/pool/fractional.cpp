// FractionalMaxPool2d/3d (Graham, "Fractional Max-Pooling"): max over
// windows of a fixed size whose starts advance by a fractional step, with a
// random offset per plane and axis. The windows come from fractional_start
// (geometry.h); the scan is MaxPool's (strict >, NaN wins); backward is the
// shared scatter-add at the indices.
//
// The offsets are PyTorch's `_random_samples`, shaped (N, C, rank): an
// optional second input, or drawn from the model seed exactly as
// torch.rand(N, C, rank) right after torch.manual_seed(seed) draws them (the
// same samples on every run). Which sample drives which axis is PyTorch's:
// 2d [0] -> W, [1] -> H; 3d [0] -> T, [1] -> H, [2] -> W.
#include "framework/error.h"
#include "framework/rng.h"
#include "ops/pool/naive.h"
#include "ops/pool/pool.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

namespace mininn::pool {
namespace {

struct SavedIndices final : KernelState {
  Tensor indices;
};

// Which sample of a plane drives canonical axis D, H, W (-1: none, the axis
// is a size-1 placeholder).
std::array<int, 3> sample_of_axis(int rank) {
  if (rank == 2) return {-1, 1, 0};
  return {0, 1, 2};
}

// Every sample a forward pass reads must lie in [0, 1]: PyTorch draws them
// from [0, 1), and any value in [0, 1] provably keeps the windows inside the
// input. 1.13 computes windows from anything (NaN, inf and huge values are
// undefined behaviour in its float-to-int conversion); mininn refuses.
void check_samples(const float* samples, int64_t planes, int64_t channels, int rank, const std::string& module) {
  for (int64_t i = 0; i < planes * rank; ++i) {
    float u = samples[i];
    if (u >= 0.0f && u <= 1.0f) continue;
    int64_t plane = i / rank;
    fail("{}: the random samples must lie in [0, 1], but _random_samples[{}, {}, {}] is {}", module, plane / channels,
         plane % channels, i % rank, u);
  }
}

class NaiveFractionalMaxPool final : public Kernel {
 public:
  NaiveFractionalMaxPool(Geometry geometry, int rank, int64_t channels, std::string module, bool returns_indices,
                         bool needs_backward, Shape out_shape, std::vector<float> drawn)
      : geometry_(geometry),
        rank_(rank),
        channels_(channels),
        module_(std::move(module)),
        returns_indices_(returns_indices),
        needs_backward_(needs_backward),
        out_shape_(std::move(out_shape)),
        drawn_(std::move(drawn)) {}

  std::unique_ptr<KernelState> make_state() const override {
    if (returns_indices_ || !needs_backward_) return nullptr;
    auto state = std::make_unique<SavedIndices>();
    state->indices = Tensor::empty(out_shape_, DType::Int64);
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    const float* samples = args.inputs.size() > 1 ? args.inputs[1].f32() : drawn_.data();
    check_samples(samples, geometry_.planes, channels_, rank_, module_);
    int64_t* indices = nullptr;
    if (returns_indices_) indices = args.outputs[1].i64();
    else if (args.state) indices = static_cast<SavedIndices*>(args.state)->indices.i64();
    run(args.inputs[0].f32(), samples, args.outputs[0].f32(), indices);
  }

  void backward(const BackwardArgs& args) const override {
    if (!args.grad_inputs[0].defined()) return;
    const int64_t* indices = returns_indices_ ? args.outputs[1].i64() : saved(args.state);
    max_backward(geometry_, args.grad_outputs[0].f32(), indices, args.grad_inputs[0].f32());
  }

 private:
  static const int64_t* saved(const KernelState* state) {
    check(state != nullptr, "internal error: backward without the indices of the forward pass");
    return static_cast<const SavedIndices*>(state)->indices.i64();
  }

  void run(const float* x, const float* samples, float* y, int64_t* indices) const {
    const Axis &ad = geometry_.axes[0], &ah = geometry_.axes[1], &aw = geometry_.axes[2];
    const int64_t in_plane = geometry_.in_plane(), out_plane = geometry_.out_plane();
    const std::array<int, 3> which = sample_of_axis(rank_);
#pragma omp parallel
    {
      std::array<std::vector<int64_t>, 3> starts;  // per axis, the window starts of the current plane
#pragma omp for schedule(static)
      for (int64_t p = 0; p < geometry_.planes; ++p) {
        const float* u = samples + p * rank_;
        for (int a = 0; a < 3; ++a) {
          const Axis& axis = geometry_.axes[a];
          starts[a].resize(axis.out);
          for (int64_t o = 0; o < axis.out; ++o)
            starts[a][o] = which[a] < 0 ? 0 : fractional_start(o, u[which[a]], axis.in, axis.out, axis.kernel);
        }
        const float* xp = x + p * in_plane;
        float* yp = y + p * out_plane;
        int64_t* ip = indices ? indices + p * out_plane : nullptr;
        int64_t o = 0;
        for (int64_t od = 0; od < ad.out; ++od)
          for (int64_t oh = 0; oh < ah.out; ++oh)
            for (int64_t ow = 0; ow < aw.out; ++ow, ++o) {
              const int64_t d0 = starts[0][od], h0 = starts[1][oh], w0 = starts[2][ow];
              // The scan starts from -inf at the window's first cell (an all
              // -inf window reports that cell); strict '>' keeps the first
              // maximum, and every NaN wins, so the last NaN's index stays.
              float best = -std::numeric_limits<float>::infinity();
              int64_t arg = (d0 * ah.in + h0) * aw.in + w0;
              for (int64_t id = d0; id < d0 + ad.kernel; ++id)
                for (int64_t ih = h0; ih < h0 + ah.kernel; ++ih) {
                  const int64_t row = (id * ah.in + ih) * aw.in;
                  for (int64_t iw = w0; iw < w0 + aw.kernel; ++iw) {
                    float v = xp[row + iw];
                    if (v > best || std::isnan(v)) {
                      best = v;
                      arg = row + iw;
                    }
                  }
                }
              yp[o] = best;
              if (ip) ip[o] = arg;
            }
      }
    }
  }

  Geometry geometry_;  // axes carry in, out and kernel
  int rank_;
  int64_t channels_;
  std::string module_;
  bool returns_indices_, needs_backward_;
  Shape out_shape_;
  std::vector<float> drawn_;  // the samples drawn from the seed, used when none are given
};

class FractionalMaxPool final : public Op {
 public:
  FractionalMaxPool(int rank, const Attrs& attrs)
      : rank_(rank),
        module_(fmt::format("FractionalMaxPool{}d", rank)),
        fn_(spatial_name("fractional_max_pool", rank)),
        kernel_(attrs.ints("kernel_size")),
        return_indices_(attrs.boolean("return_indices")) {
    bool has_size = !attrs.is_null("output_size"), has_ratio = !attrs.is_null("output_ratio");
    if (!has_size && !has_ratio)
      throw attrs.error("output_size",
                        fmt::format("{} requires specifying either an output size, or a pooling ratio", module_));
    if (has_size && has_ratio)
      throw attrs.error("output_ratio", "only one of output_size and output_ratio may be specified");
    if (has_size) {
      output_size_ = attrs.ints("output_size");
      for (int64_t extent : output_size_)
        if (extent < 0)
          throw attrs.error("output_size", fmt::format("output_size must not be negative, but got {}", output_size_));
    } else {
      ratio_ = attrs.floats("output_ratio");
      for (double ratio : ratio_)
        if (!(ratio > 0 && ratio < 1))
          throw attrs.error("output_ratio", fmt::format("output_ratio must be between 0 and 1 (got {})",
                                                        attrs.value("output_ratio").dump()));
    }
    // 1.13 accepts a kernel of 0 and outputs -inf with indices outside the
    // window; current PyTorch refuses it, and so does mininn.
    for (int64_t k : kernel_)
      if (k <= 0)
        throw attrs.error("kernel_size", fmt::format("{}(): kernel size should be greater than zero, but got {}", fn_,
                                                     fmt::join(kernel_, "x")));
  }

  int num_outputs() const override { return return_indices_ ? 2 : 1; }
  bool differentiable_output(int index) const override { return index == 0; }
  bool differentiable_input(int index) const override { return index == 0; }  // the samples get no gradient

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    Layout layout = check_values_input(inputs[0]);
    Shape out = out_spatial(layout.spatial);
    check_fits(layout.spatial, out);
    if (inputs.size() > 1) check_samples_desc(inputs[1], layout);
    TensorDesc values{DType::Float32, join(layout, out)};
    if (return_indices_) return {values, indices_like(values)};
    return {values};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    const Shape& input = config.inputs[0].shape;
    Layout layout = split(input, rank_);
    Geometry g = planes_only(input, rank_, out_spatial(layout.spatial));
    for (int i = 0; i < rank_; ++i) g.axes[3 - rank_ + i].kernel = kernel_[i];

    std::vector<float> drawn;
    if (config.inputs.size() < 2) {
      // F.fractional_max_pool{2,3}d: torch.rand(N or 1, C, rank) from the generator.
      drawn.resize(static_cast<size_t>(g.planes * rank_));
      Generator generator(config.seed);
      generator.uniform(drawn, 0.0, 1.0);
    }
    auto kernel = std::make_unique<NaiveFractionalMaxPool>(g, rank_, layout.channels, module_, return_indices_,
                                                           config.needs_backward, config.outputs[0].shape,
                                                           std::move(drawn));
    kernel->dispatch.reason = "oneDNN has no fractional max pooling";
    return kernel;
  }

 private:
  // PyTorch's messages name the 3-d function fractional_max_pool3d_out().
  std::string message_fn() const { return rank_ == 2 ? fn_ + "()" : fn_ + "_out()"; }

  Layout check_values_input(const TensorDesc& input) const {
    const Shape& shape = input.shape;
    const size_t r = static_cast<size_t>(rank_);
    check(shape.size() == r + 1 || shape.size() == r + 2, "{}: Expected {}D or {}D tensor, but got: {}", message_fn(),
          r + 1, r + 2, to_string(shape));
    // As PyTorch: every size after the first must be positive, so unbatched
    // input with no channels passes (and gives an empty output).
    for (size_t i = 1; i < shape.size(); ++i)
      check(shape[i] > 0,
            "{}: Expected input to have non-zero size for non-batch dimensions, but got {} with dimension {} being "
            "empty.",
            message_fn(), to_string(shape), i);
    check(input.dtype == DType::Float32, "{}: expected a float32 input, but got {}", message_fn(),
          dtype_name(input.dtype));
    return split(shape, rank_);
  }

  // output_size, or int(input_size * output_ratio) as F.fractional_max_pool does.
  Shape out_spatial(const Shape& in) const {
    if (!output_size_.empty()) return output_size_;
    Shape out;
    for (int i = 0; i < rank_; ++i) out.push_back(static_cast<int64_t>(static_cast<double>(in[i]) * ratio_[i]));
    return out;
  }

  // Every window must fit: out + kernel - 1 <= in. PyTorch's 3-d check is
  // strict (< in) and runs T, W, H; mininn reproduces both.
  void check_fits(const Shape& in, const Shape& out) const {
    static const char* const kNames2[] = {"height", "width"};
    static const char* const kNames3[] = {"time", "height", "width"};
    const bool strict = rank_ == 3;
    std::vector<int> order = rank_ == 2 ? std::vector<int>{0, 1} : std::vector<int>{0, 2, 1};
    for (int i : order) {
      const char* name = rank_ == 2 ? kNames2[i] : kNames3[i];
      int64_t reach = out[i] + kernel_[i] - 1;
      check(strict ? reach < in[i] : reach <= in[i], "{}: pool {} {} too large relative to input {} {}", message_fn(),
            name, kernel_[i], name, in[i]);
    }
  }

  // 1.13 reads the samples unchecked (a wrong shape reads out of bounds);
  // mininn checks them as current PyTorch does.
  void check_samples_desc(const TensorDesc& samples, const Layout& layout) const {
    const Shape& shape = samples.shape;
    check(samples.dtype == DType::Float32,
          "{}: Expect _random_samples to have the same dtype as input (float32), but got {}", module_,
          dtype_name(samples.dtype));
    check(shape.size() == 3, "{}: Expect _random_samples to have 3 dimensions, got {} (shape {})", module_,
          shape.size(), to_string(shape));
    int64_t batch = layout.batched ? layout.batch : 1;
    check(shape[0] == kDynamic || batch == kDynamic || shape[0] >= batch,
          "{}: Expect _random_samples.size(0) no less than input batch size ({}), but got shape {}", module_, batch,
          to_string(shape));
    check(shape[1] == layout.channels,
          "{}: Expect _random_samples.size(1) equals to input channel size ({}), but got shape {}", module_,
          layout.channels, to_string(shape));
    check(shape[2] == rank_, "{}: Expect _random_samples.size(2) equals to {}; got {}.", module_, rank_, shape[2]);
  }

  int rank_;
  std::string module_, fn_;
  std::vector<int64_t> kernel_;
  bool return_indices_;
  Shape output_size_;          // when given
  std::vector<double> ratio_;  // else
};

}  // namespace

std::unique_ptr<Op> make_fractional_max_pool(int rank, const Attrs& attrs) {
  return std::make_unique<FractionalMaxPool>(rank, attrs);
}

}  // namespace mininn::pool
