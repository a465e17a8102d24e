// LPPool: power-average pooling, defined exactly as PyTorch 1.13 defines it,
// on top of average pooling without padding:
//
//   A   = avg_pool(x^p)                       (the ceil_mode divisor counts real cells only)
//   out = (sign(A) * relu(|A|) * K)^(1/p)     (K = the full kernel volume)
//
// so out = (K/cnt * sum x^p)^(1/p): the true p-norm of each window, except
// that a partial ceil_mode window is rescaled by K/cnt. x^p is taken without
// abs, so a negative input stays negative for p = 1 and gives NaN for
// fractional p, and p = inf gives 1 everywhere. The sign/relu wrapper only
// shapes the gradient: it is 0, not inf or NaN, wherever A == 0.
//
// The kernel is that composition literally: pointwise power, the naive
// average pool, pointwise root; backward retraces the autograd chain step by
// step so NaN, inf and zero behave as in PyTorch.
#include "framework/error.h"
#include "ops/pool/naive.h"
#include "ops/pool/pool.h"

#include <cmath>

namespace mininn::pool {
namespace {

// torch.pow(float tensor, scalar): the exponents PyTorch special-cases are
// computed its way (0^-0.5 = inf, 0 * inf = NaN downstream), the rest in
// double and rounded, as its scalar path does.
float power(float x, double exponent) {
  if (exponent == 0) return 1.0f;
  if (exponent == 1) return x;
  if (exponent == 2) return x * x;
  if (exponent == 3) return x * x * x;
  if (exponent == 0.5) return std::sqrt(x);
  if (exponent == -0.5) return 1.0f / std::sqrt(x);
  if (exponent == -1) return 1.0f / x;
  if (exponent == -2) return 1.0f / (x * x);
  return static_cast<float>(std::pow(static_cast<double>(x), exponent));
}

float sign(float a) { return static_cast<float>((0.0f < a) - (a < 0.0f)); }  // 0 for NaN, as torch.sign

// The average A of each window and its gradient, kept between forward and
// backward; x^p is scratch for the forward pass.
struct LPScratch final : KernelState {
  Tensor powered;   // x^p, shaped like the input
  Tensor averaged;  // A, shaped like the output
  Tensor grad_avg;  // dL/dA, shaped like the output
};

class NaiveLPPool final : public Kernel {
 public:
  NaiveLPPool(Geometry geometry, double norm_type, Shape in_shape, Shape out_shape)
      : geometry_(geometry), p_(norm_type), in_shape_(std::move(in_shape)), out_shape_(std::move(out_shape)) {}

  std::unique_ptr<KernelState> make_state() const override {
    auto state = std::make_unique<LPScratch>();
    state->powered = Tensor::empty(in_shape_);
    state->averaged = Tensor::empty(out_shape_);
    state->grad_avg = Tensor::empty(out_shape_);
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    auto& scratch = *static_cast<LPScratch*>(args.state);
    const float* x = args.inputs[0].f32();
    float* powered = scratch.powered.f32();
    const int64_t in_count = scratch.powered.numel(), out_count = scratch.averaged.numel();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < in_count; ++i) powered[i] = power(x[i], p_);

    avg_forward(geometry_, AvgOptions{}, powered, scratch.averaged.f32());

    const float* averaged = scratch.averaged.f32();
    float* y = args.outputs[0].f32();
    const float kernel_volume = static_cast<float>(geometry_.kernel_volume());
    const double root = 1.0 / p_;
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < out_count; ++o) {
      float a = averaged[o];
      y[o] = power(sign(a) * std::fabs(a) * kernel_volume, root);  // relu(|A|) is |A|
    }
  }

  // The chain rule through pow(., 1/p), mul(K), sign(A) * relu(|A|),
  // avg_pool and pow(., p), each step as PyTorch's autograd computes it.
  void backward(const BackwardArgs& args) const override {
    if (!args.grad_inputs[0].defined()) return;
    auto& scratch = *static_cast<LPScratch*>(args.state);
    const float* averaged = scratch.averaged.f32();
    const float* gy = args.grad_outputs[0].f32();
    float* grad_avg = scratch.grad_avg.f32();
    const int64_t out_count = scratch.averaged.numel(), in_count = args.grad_inputs[0].numel();
    const float kernel_volume = static_cast<float>(geometry_.kernel_volume());
    const double root = 1.0 / p_;
#pragma omp parallel for schedule(static)
    for (int64_t o = 0; o < out_count; ++o) {
      float a = averaged[o], s = sign(a), r = std::fabs(a);  // r = relu(|A|)
      float base = s * r * kernel_volume;
      // pow's backward is identically zero for a zero exponent (p = inf).
      float grad_base = root == 0 ? 0.0f : gy[o] * (static_cast<float>(root) * power(base, root - 1.0));
      float grad_r = grad_base * kernel_volume * s;
      if (r <= 0.0f) grad_r = 0.0f;  // relu's backward: the A == 0 mask
      grad_avg[o] = grad_r * s;
    }

    float* gx = args.grad_inputs[0].f32();
    avg_backward(geometry_, AvgOptions{}, grad_avg, gx);

    const float* x = args.inputs[0].f32();
    const float p = static_cast<float>(p_);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < in_count; ++i) gx[i] = gx[i] * (p * power(x[i], p_ - 1.0));
  }

 private:
  Geometry geometry_;
  double p_;
  Shape in_shape_, out_shape_;
};

class LPPool final : public Op {
 public:
  LPPool(int rank, const Attrs& attrs)
      : rank_(rank), fn_(spatial_name("lp_pool", rank)), norm_type_(attrs.number("norm_type")) {
    if (norm_type_ == 0)
      throw attrs.error("norm_type",
                        "norm_type must not be 0: the output is the (1/norm_type)-th power "
                        "(PyTorch raises ZeroDivisionError)");
    // No padding and no dilation: LPPool is avg_pool with padding=0.
    window_.kernel = attrs.ints("kernel_size");
    window_.stride = attrs.is_null("stride") ? window_.kernel : attrs.ints("stride");
    window_.padding.assign(rank, 0);
    window_.dilation.assign(rank, 1);
    window_.ceil_mode = attrs.boolean("ceil_mode");
  }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    Layout layout = check_input(inputs[0], rank_, fn_);
    if (rank_ == 3) {
      // avg_pool3d's own check, which LPPool3d inherits (even under ceil_mode).
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
    auto kernel = std::make_unique<NaiveLPPool>(sliding(config.inputs[0].shape, window_), norm_type_,
                                                config.inputs[0].shape, config.outputs[0].shape);
    kernel->dispatch.reason = "oneDNN has no power-average pooling";
    return kernel;
  }

 private:
  int rank_;
  std::string fn_;
  double norm_type_;
  Window window_;
};

}  // namespace

std::unique_ptr<Op> make_lp_pool(int rank, const Attrs& attrs) { return std::make_unique<LPPool>(rank, attrs); }

}  // namespace mininn::pool
