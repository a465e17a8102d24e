// MSELoss: (input - target)^2, averaged, summed or kept per element.
#include "framework/error.h"
#include "ops/loss/loss.h"
#include "ops/naive_only.h"

namespace mininn::loss {
namespace {

class MseKernel final : public Kernel {
 public:
  explicit MseKernel(Reduction reduction) : reduction_(reduction) {}

  void forward(const ForwardArgs& args) const override {
    const float* x = args.inputs[0].f32();
    const float* t = args.inputs[1].f32();
    float* y = args.outputs[0].f32();
    const int64_t count = args.inputs[0].numel();
    if (reduction_ == Reduction::None) {
      for (int64_t i = 0; i < count; ++i) {
        float d = x[i] - t[i];
        y[i] = d * d;
      }
      return;
    }
    double sum = 0;
    for (int64_t i = 0; i < count; ++i) {
      double d = double(x[i]) - t[i];
      sum += d * d;
    }
    y[0] = static_cast<float>(reduction_ == Reduction::Mean ? sum / static_cast<double>(count) : sum);
  }

  // torch's mse_loss_backward: norm * (input - target) * grad, norm = 2 (/ numel for mean).
  void backward(const BackwardArgs& args) const override {
    const float* x = args.inputs[0].f32();
    const float* t = args.inputs[1].f32();
    const float* g = args.grad_outputs[0].f32();
    float* dx = args.grad_inputs[0].defined() ? args.grad_inputs[0].f32() : nullptr;
    float* dt = args.grad_inputs[1].defined() ? args.grad_inputs[1].f32() : nullptr;
    const int64_t count = args.inputs[0].numel();
    const double norm = reduction_ == Reduction::Mean ? 2.0 / static_cast<double>(count) : 2.0;
    for (int64_t i = 0; i < count; ++i) {
      double upstream = reduction_ == Reduction::None ? g[i] : g[0];
      float grad = static_cast<float>(norm * (double(x[i]) - t[i]) * upstream);
      if (dx) dx[i] = grad;
      if (dt) dt[i] = -grad;
    }
  }

 private:
  Reduction reduction_;
};

class MseLoss final : public Op {
 public:
  explicit MseLoss(const Attrs& attrs) : reduction_(parse_reduction(attrs.string("reduction"))) {}

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    check(inputs[0].dtype == DType::Float32 && inputs[1].dtype == DType::Float32,
          "mse_loss: input and target must be float32, but got {} and {}", dtype_name(inputs[0].dtype),
          dtype_name(inputs[1].dtype));
    check(inputs[0].shape == inputs[1].shape,
          "mse_loss: target size ({}) must be the same as input size ({}); mininn does not broadcast them",
          to_string(inputs[1].shape), to_string(inputs[0].shape));
    if (reduction_ == Reduction::None) return {inputs[0]};
    return {TensorDesc{DType::Float32, {}}};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    return naive_only<MseKernel>(config, reduction_);
  }

 private:
  Reduction reduction_;
};

}  // namespace

void register_mse(Registry& registry) {
  registry.add({"MSELoss", "loss", "mean squared error between input and target", 0, {reduction_attr()},
                {{"input", "float32 of any shape"}, {"target", "float32, the input's shape"}},
                {"output"},
                [](const Attrs& attrs) { return std::make_unique<MseLoss>(attrs); }});
}

}  // namespace mininn::loss
