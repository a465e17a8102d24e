// Dropout: the identity in evaluation mode; in training mode each element is
// kept with probability 1 - p and scaled by 1 / (1 - p).
//
// The mask reproduces torch 1.13's CPU dropout (noise.bernoulli_(1 - p)
// without MKL, then noise / (1 - p), then input * noise): one 64-bit draw per
// element in memory order from the Execution's generator,
//   u    = (random64() & (2^53 - 1)) * 2^-53     (a double in [0, 1))
//   keep = u < 1 - p
// and a kept element is multiplied by the float 1 / (1 - p). p = 0 and p = 1
// draw nothing (torch returns the input, or zeros).
#include "framework/error.h"
#include "framework/rng.h"
#include "ops/families.h"
#include "ops/naive_only.h"
#include "ops/registry.h"

#include <cstring>
#include <vector>

namespace mininn {
namespace {

struct DropoutState final : KernelState {
  std::vector<float> noise;  // 0 or 1 / (1 - p) per element, from the last training forward
};

class DropoutKernel final : public Kernel {
 public:
  DropoutKernel(double p, bool training, int64_t count) : p_(p), training_(training), count_(count) {}

  std::unique_ptr<KernelState> make_state() const override {
    auto state = std::make_unique<DropoutState>();
    if (active()) state->noise.resize(count_);
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    const float* x = args.inputs[0].f32();
    float* y = args.outputs[0].f32();
    if (!active()) {
      if (training_ && p_ == 1) std::fill_n(y, count_, 0.0f);
      else std::memcpy(y, x, args.inputs[0].nbytes());
      return;
    }
    std::vector<float>& noise = static_cast<DropoutState*>(args.state)->noise;
    const double keep = 1 - p_;
    const float scale = 1.0f / static_cast<float>(keep);
    constexpr double kUnit = 1.0 / 9007199254740992.0;  // 2^-53
    for (int64_t i = 0; i < count_; ++i) {
      double u = static_cast<double>(args.generator->random64() & ((uint64_t{1} << 53) - 1)) * kUnit;
      noise[i] = u < keep ? scale : 0.0f;
      y[i] = x[i] * noise[i];
    }
  }

  void backward(const BackwardArgs& args) const override {
    if (!args.grad_inputs[0].defined()) return;
    const float* g = args.grad_outputs[0].f32();
    float* dx = args.grad_inputs[0].f32();
    if (!active()) {
      if (training_ && p_ == 1) std::fill_n(dx, count_, 0.0f);
      else std::memcpy(dx, g, args.grad_outputs[0].nbytes());
      return;
    }
    const std::vector<float>& noise = static_cast<const DropoutState*>(args.state)->noise;
    for (int64_t i = 0; i < count_; ++i) dx[i] = g[i] * noise[i];
  }

 private:
  bool active() const { return training_ && p_ > 0 && p_ < 1; }

  double p_;
  bool training_;
  int64_t count_;
};

class Dropout final : public Op {
 public:
  explicit Dropout(const Attrs& attrs) : p_(attrs.number("p")) {
    if (!(p_ >= 0 && p_ <= 1))
      throw attrs.error("p", fmt::format("dropout probability has to be between 0 and 1, but got {}", p_));
  }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    check(inputs[0].dtype == DType::Float32, "dropout: expected a float32 input, but got {}", dtype_name(inputs[0].dtype));
    return {inputs[0]};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    return naive_only<DropoutKernel>(config, p_, config.training, checked_numel(config.inputs[0].shape));
  }

 private:
  double p_;
};

}  // namespace

void register_dropout_ops(Registry& registry) {
  registry.add({"Dropout", "dropout",
                "training mode: zeroes each element with probability p and scales the rest by 1/(1-p); "
                "evaluation mode: the identity",
                0,
                {{"p", AttrType::Float, "0.5", "probability of an element to be zeroed"},
                 {"inplace", AttrType::Bool, "false",
                  "accepted for PyTorch compatibility; mininn never overwrites its input"}},
                {{"input", "float32 of any shape"}},
                {"output"},
                [](const Attrs& attrs) { return std::make_unique<Dropout>(attrs); }});
}

}  // namespace mininn
