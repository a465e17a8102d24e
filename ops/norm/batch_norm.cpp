// BatchNorm1d and BatchNorm2d: per-channel normalisation over every axis but
// the channel's, as torch.nn.BatchNorm1d/2d.
//
// Parameters, in state_dict order: weight, bias (affine), running_mean,
// running_var, num_batches_tracked (track_running_stats; buffers, not
// trained). Batch statistics are used in training mode, and always without
// running statistics; a training-mode forward then updates the buffers with
// PyTorch's rule (momentum, or a cumulative average when momentum is null;
// the running variance takes the unbiased batch variance). Statistics and
// gradients are computed in double, as PyTorch's CPU kernels do.
#include "framework/error.h"
#include "framework/parallel.h"
#include "ops/families.h"
#include "ops/naive_only.h"
#include "ops/registry.h"

#include <cmath>
#include <optional>
#include <vector>

namespace mininn {
namespace {

struct BatchNormState final : KernelState {
  std::vector<double> mean, invstd;  // per channel, as used by the last forward
};

struct Config {
  int64_t channels = 0;
  double eps = 1e-5;
  std::optional<double> momentum;  // null: cumulative moving average
  bool affine = true, track = true;
};

class BatchNormKernel final : public Kernel {
 public:
  BatchNormKernel(Config config, bool training, int64_t batch, int64_t plane)
      : config_(config), batch_statistics_(training || !config.track), update_(training && config.track),
        batch_(batch), plane_(plane) {}

  std::unique_ptr<KernelState> make_state() const override {
    auto state = std::make_unique<BatchNormState>();
    state->mean.resize(config_.channels);
    state->invstd.resize(config_.channels);
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    auto& state = *static_cast<BatchNormState*>(args.state);
    const float* x = args.inputs[0].f32();
    float* y = args.outputs[0].f32();
    const int64_t channels = config_.channels, batch = batch_, plane = plane_;
    const float* weight = config_.affine ? args.params[0].f32() : nullptr;
    const float* bias = config_.affine ? args.params[1].f32() : nullptr;
    const int buffers = config_.affine ? 2 : 0;  // index of running_mean among the params
    const double count = static_cast<double>(batch * plane);

    double factor = config_.momentum.value_or(0);
    if (update_) {
      int64_t& tracked = args.buffers[buffers + 2].i64()[0];
      tracked += 1;
      if (!config_.momentum) factor = 1.0 / static_cast<double>(tracked);
    }
#pragma omp parallel for schedule(static) if (parallel_worth(batch * plane * channels))
    for (int64_t c = 0; c < channels; ++c) {
      double mean, invstd;
      if (batch_statistics_) {
        double sum = 0;
        for (int64_t n = 0; n < batch; ++n) {
          const float* p = x + (n * channels + c) * plane;
          for (int64_t i = 0; i < plane; ++i) sum += p[i];
        }
        mean = sum / count;
        double squares = 0;
        for (int64_t n = 0; n < batch; ++n) {
          const float* p = x + (n * channels + c) * plane;
          for (int64_t i = 0; i < plane; ++i) squares += (p[i] - mean) * (p[i] - mean);
        }
        invstd = 1 / std::sqrt(squares / count + config_.eps);
        if (update_) {
          float* running_mean = args.buffers[buffers].f32();
          float* running_var = args.buffers[buffers + 1].f32();
          running_mean[c] = static_cast<float>(factor * mean + (1 - factor) * running_mean[c]);
          running_var[c] = static_cast<float>(factor * (squares / (count - 1)) + (1 - factor) * running_var[c]);
        }
      } else {
        mean = args.params[buffers].f32()[c];
        invstd = 1 / std::sqrt(double(args.params[buffers + 1].f32()[c]) + config_.eps);
      }
      state.mean[c] = mean;
      state.invstd[c] = invstd;
      // y = x * alpha + beta in float, with alpha and beta rounded once, as torch's CPU kernel.
      double w = weight ? weight[c] : 1.0, b = bias ? bias[c] : 0.0;
      float alpha = static_cast<float>(invstd * w);
      float beta = static_cast<float>(b - mean * invstd * w);
      for (int64_t n = 0; n < batch; ++n) {
        const float* p = x + (n * channels + c) * plane;
        float* q = y + (n * channels + c) * plane;
        for (int64_t i = 0; i < plane; ++i) q[i] = p[i] * alpha + beta;
      }
    }
  }

  void backward(const BackwardArgs& args) const override {
    const auto& state = *static_cast<const BatchNormState*>(args.state);
    const float* x = args.inputs[0].f32();
    const float* g = args.grad_outputs[0].f32();
    float* dx = args.grad_inputs[0].defined() ? args.grad_inputs[0].f32() : nullptr;
    float* dw = config_.affine && args.grad_params[0].defined() ? args.grad_params[0].f32() : nullptr;
    float* db = config_.affine && args.grad_params[1].defined() ? args.grad_params[1].f32() : nullptr;
    const float* weight = config_.affine ? args.params[0].f32() : nullptr;
    const int64_t channels = config_.channels, batch = batch_, plane = plane_;
    const double count = static_cast<double>(batch * plane);
#pragma omp parallel for schedule(static) if (parallel_worth(batch * plane * channels))
    for (int64_t c = 0; c < channels; ++c) {
      const double mean = state.mean[c], invstd = state.invstd[c];
      double sum = 0, dot = 0;  // sum(dy), sum((x - mean) * dy)
      for (int64_t n = 0; n < batch; ++n) {
        const float* p = x + (n * channels + c) * plane;
        const float* d = g + (n * channels + c) * plane;
        for (int64_t i = 0; i < plane; ++i) {
          sum += d[i];
          dot += (p[i] - mean) * d[i];
        }
      }
      if (dx) {
        const double w = weight ? weight[c] : 1.0;
        const double k = dot * invstd * invstd / count, grad_mean = sum / count;
        for (int64_t n = 0; n < batch; ++n) {
          const float* p = x + (n * channels + c) * plane;
          const float* d = g + (n * channels + c) * plane;
          float* q = dx + (n * channels + c) * plane;
          for (int64_t i = 0; i < plane; ++i)
            q[i] = batch_statistics_ ? static_cast<float>((d[i] - grad_mean - (p[i] - mean) * k) * invstd * w)
                                     : static_cast<float>(d[i] * invstd * w);
        }
      }
      if (dw) dw[c] = static_cast<float>(dot * invstd);
      if (db) db[c] = static_cast<float>(sum);
    }
  }

 private:
  Config config_;
  bool batch_statistics_, update_;
  int64_t batch_, plane_;
};

// BatchNorm1d ((N, C) or (N, C, L)) and BatchNorm2d ((N, C, H, W)): one
// computation over (batch, channel, plane) with plane 1, L or H*W.
class BatchNorm final : public Op {
 public:
  BatchNorm(const Attrs& attrs, int spatial) : spatial_(spatial) {
    config_.channels = attrs.integer("num_features");
    config_.eps = attrs.number("eps");
    if (!attrs.is_null("momentum")) config_.momentum = attrs.number("momentum");
    config_.affine = attrs.boolean("affine");
    config_.track = attrs.boolean("track_running_stats");
    if (config_.channels <= 0) throw attrs.error("num_features", "num_features must be a positive integer");
    if (!(config_.eps > 0)) throw attrs.error("eps", "eps must be positive");
  }

  std::vector<ParamDecl> params() const override {
    const int64_t c = config_.channels;
    std::vector<ParamDecl> out;
    if (config_.affine) {
      out.push_back({"weight", {c}, {DefaultInit::Ones}});
      out.push_back({"bias", {c}, {DefaultInit::Zeros}});
    }
    if (config_.track) {
      out.push_back({"running_mean", {c}, {DefaultInit::Zeros}, false});
      out.push_back({"running_var", {c}, {DefaultInit::Ones}, false});
      out.push_back({"num_batches_tracked", {}, {DefaultInit::Zeros}, false, DType::Int64});
    }
    return out;
  }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    const Shape& shape = inputs[0].shape;
    if (spatial_ == 2) check(shape.size() == 4, "expected 4D input (got {}D input)", shape.size());
    else check(shape.size() == 2 || shape.size() == 3, "expected 2D or 3D input (got {}D input)", shape.size());
    check(inputs[0].dtype == DType::Float32, "batch_norm: expected a float32 input, but got {}",
          dtype_name(inputs[0].dtype));
    check(shape[1] == config_.channels, "BatchNorm{}d has num_features={}, but the input {} has {} channels",
          spatial_, config_.channels, to_string(shape), shape[1]);
    return {inputs[0]};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    const Shape& shape = config.inputs[0].shape;
    int64_t plane = 1;
    for (size_t d = 2; d < shape.size(); ++d) plane *= shape[d];
    if (config.training || !config_.track)
      check(shape[0] * plane > 1, "Expected more than 1 value per channel when training, got input size {}",
            to_string(shape));
    return naive_only<BatchNormKernel>(config, config_, config.training, shape[0], plane);
  }

 private:
  Config config_;
  int spatial_;
};

std::vector<AttrSpec> batch_norm_attrs() {
  return {{"num_features", AttrType::Int, "", "C, the number of channels"},
          {"eps", AttrType::Float, "1e-05", "added to the variance for numerical stability"},
          {"momentum", AttrType::Float, "0.1",
           "weight of the new batch in the running statistics; null: a cumulative average",
           {},
           true},
          {"affine", AttrType::Bool, "true", "learn a per-channel scale (weight) and shift (bias)"},
          {"track_running_stats", AttrType::Bool, "true",
           "keep running statistics for evaluation mode; false: always use batch statistics"}};
}

}  // namespace

void register_norm_ops(Registry& registry) {
  registry.add({"BatchNorm1d", "norm", "per-channel batch normalisation of (N, C) or (N, C, L) inputs", 0,
                batch_norm_attrs(), {{"input", "(N, C) or (N, C, L) float32"}}, {"output"},
                [](const Attrs& attrs) { return std::make_unique<BatchNorm>(attrs, 1); }});
  registry.add({"BatchNorm2d", "norm", "per-channel batch normalisation of (N, C, H, W) inputs", 0,
                batch_norm_attrs(), {{"input", "(N, C, H, W) float32"}}, {"output"},
                [](const Attrs& attrs) { return std::make_unique<BatchNorm>(attrs, 2); }});
}

}  // namespace mininn
