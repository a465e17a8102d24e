#include "graph/training/optimizer.h"

#include "framework/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace mininn {
namespace {

// Float arithmetic as torch's kernels do it: scalars (lr, betas, ...) are
// rounded to float, bias corrections are computed in double as Python does.

class Sgd final : public Optimizer {
 public:
  Sgd(const OptimizerOptions& options, std::vector<Tensor> params)
      : options_(options), params_(std::move(params)), buffers_(params_.size()) {}

  void step(std::span<const Tensor> grads) override {
    check(grads.size() == params_.size(), "internal error: {} gradients for {} parameters", grads.size(), params_.size());
    const float lr = static_cast<float>(options_.lr), decay = static_cast<float>(options_.weight_decay);
    const float momentum = static_cast<float>(options_.momentum);
    const float keep = static_cast<float>(1 - options_.dampening);
    for (size_t i = 0; i < params_.size(); ++i) {
      if (!grads[i].defined()) continue;
      float* p = params_[i].f32();
      const float* g = grads[i].f32();
      const int64_t count = params_[i].numel();
      const bool first = !buffers_[i].defined();
      if (options_.momentum != 0 && first) buffers_[i] = Tensor::empty(params_[i].shape());
      float* b = options_.momentum != 0 ? buffers_[i].f32() : nullptr;
      for (int64_t k = 0; k < count; ++k) {
        float d = g[k];
        if (decay != 0) d = d + decay * p[k];
        if (b) {
          b[k] = first ? d : b[k] * momentum + keep * d;
          d = options_.nesterov ? d + momentum * b[k] : b[k];
        }
        p[k] = p[k] - lr * d;
      }
    }
    ++steps_;
  }

 private:
  OptimizerOptions options_;
  std::vector<Tensor> params_, buffers_;  // momentum buffers, created at the first step
};

class Adam final : public Optimizer {
 public:
  Adam(const OptimizerOptions& options, std::vector<Tensor> params)
      : options_(options), params_(std::move(params)), state_(params_.size()) {}

  void step(std::span<const Tensor> grads) override {
    check(grads.size() == params_.size(), "internal error: {} gradients for {} parameters", grads.size(), params_.size());
    const bool decoupled = options_.kind == OptimizerOptions::AdamW;
    const float decay = static_cast<float>(options_.weight_decay);
    const float shrink = static_cast<float>(1 - options_.lr * options_.weight_decay);
    const float beta1 = static_cast<float>(options_.beta1), beta2 = static_cast<float>(options_.beta2);
    const float one_minus_beta1 = static_cast<float>(1 - options_.beta1);
    const float one_minus_beta2 = static_cast<float>(1 - options_.beta2);
    const float eps = static_cast<float>(options_.eps);
    for (size_t i = 0; i < params_.size(); ++i) {
      if (!grads[i].defined()) continue;
      State& s = state_[i];
      if (!s.m.defined()) {
        s.m = Tensor::zeros(params_[i].shape());
        s.v = Tensor::zeros(params_[i].shape());
        if (options_.amsgrad) s.v_max = Tensor::zeros(params_[i].shape());
      }
      s.step += 1;
      const double t = static_cast<double>(s.step);
      const double correction1 = 1 - std::pow(options_.beta1, t);
      const float step_size = static_cast<float>(options_.lr / correction1);
      const float correction2_sqrt = static_cast<float>(std::sqrt(1 - std::pow(options_.beta2, t)));
      float* p = params_[i].f32();
      const float* g = grads[i].f32();
      float* m = s.m.f32();
      float* v = s.v.f32();
      float* v_max = options_.amsgrad ? s.v_max.f32() : nullptr;
      const int64_t count = params_[i].numel();
      for (int64_t k = 0; k < count; ++k) {
        float d = g[k];
        if (decoupled) p[k] = p[k] * shrink;
        else if (decay != 0) d = d + decay * p[k];
        m[k] = m[k] * beta1 + one_minus_beta1 * d;
        v[k] = v[k] * beta2 + one_minus_beta2 * (d * d);
        float second = v[k];
        if (v_max) second = v_max[k] = std::max(v_max[k], v[k]);
        float denom = std::sqrt(second) / correction2_sqrt + eps;
        p[k] = p[k] - step_size * (m[k] / denom);
      }
    }
    ++steps_;
  }

 private:
  struct State {
    int64_t step = 0;
    Tensor m, v, v_max;
  };
  OptimizerOptions options_;
  std::vector<Tensor> params_;
  std::vector<State> state_;
};

}  // namespace

const char* optimizer_name(OptimizerOptions::Kind kind) {
  switch (kind) {
    case OptimizerOptions::Sgd: return "sgd";
    case OptimizerOptions::Adam: return "adam";
    case OptimizerOptions::AdamW: return "adamw";
  }
  return "?";
}

void OptimizerOptions::validate() const {
  check(lr >= 0, "Invalid learning rate: {}", lr);
  check(weight_decay >= 0, "Invalid weight_decay value: {}", weight_decay);
  if (kind == Sgd) {
    check(momentum >= 0, "Invalid momentum value: {}", momentum);
    check(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum requires a momentum and zero dampening");
  } else {
    check(eps >= 0, "Invalid epsilon value: {}", eps);
    check(beta1 >= 0 && beta1 < 1, "Invalid beta parameter at index 0: {}", beta1);
    check(beta2 >= 0 && beta2 < 1, "Invalid beta parameter at index 1: {}", beta2);
  }
}

std::string OptimizerOptions::describe() const {
  if (kind == Sgd) {
    std::string text = fmt::format("SGD(lr={}", lr);
    if (momentum != 0) text += fmt::format(", momentum={}", momentum);
    if (dampening != 0) text += fmt::format(", dampening={}", dampening);
    if (nesterov) text += ", nesterov=True";
    if (weight_decay != 0) text += fmt::format(", weight_decay={}", weight_decay);
    return text + ")";
  }
  return fmt::format("{}(lr={}, betas=({}, {}), eps={}, weight_decay={}{})", kind == Adam ? "Adam" : "AdamW", lr, beta1,
                     beta2, eps, weight_decay, amsgrad ? ", amsgrad=True" : "");
}

std::unique_ptr<Optimizer> Optimizer::create(const OptimizerOptions& options, std::vector<Tensor> params) {
  options.validate();
  for (const Tensor& p : params) check(p.dtype() == DType::Float32, "internal error: an int64 parameter is not trainable");
  if (options.kind == OptimizerOptions::Sgd) return std::make_unique<Sgd>(options, std::move(params));
  return std::make_unique<Adam>(options, std::move(params));
}

}  // namespace mininn
