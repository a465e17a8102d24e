// CrossEntropyLoss with int64 class targets: log_softmax over the class
// dimension, then the negative log-likelihood of the target class, with
// PyTorch's ignore_index and label_smoothing:
//   loss_i = (1 - s) * -log p_i[t_i] + (s / C) * sum_c -log p_i[c]
// An ignored sample contributes 0 and is left out of the mean's count.
#include "framework/error.h"
#include "ops/activation/activation.h"
#include "ops/loss/loss.h"
#include "ops/naive_only.h"

#include <cmath>
#include <vector>

namespace mininn::loss {
namespace {

// The input viewed as (batch, classes, inner); the target as (batch, inner).
struct Layout {
  int64_t batch = 1, classes = 1, inner = 1;
};

std::string extent(int64_t size) { return size == kDynamic ? "N" : std::to_string(size); }

struct Settings {
  Reduction reduction = Reduction::Mean;
  int64_t ignore_index = -100;
  double smoothing = 0;
};

class CrossEntropyKernel final : public Kernel {
 public:
  CrossEntropyKernel(Layout layout, Settings settings) : layout_(layout), settings_(settings) {}

  void forward(const ForwardArgs& args) const override {
    const auto [batch, classes, inner] = layout_;
    const float* x = args.inputs[0].f32();
    const int64_t* target = args.inputs[1].i64();
    float* y = args.outputs[0].f32();
    double total = 0;
    int64_t counted = 0;
    std::vector<double> log_probs(classes);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t t = target[n * inner + i];
        double loss = 0;
        if (t != settings_.ignore_index) {
          check(t >= 0 && t < classes, "Target {} is out of bounds (the input has {} classes, 0 to {})", t, classes,
                classes - 1);
          log_softmax(x + n * classes * inner + i, log_probs);
          loss = -(1 - settings_.smoothing) * log_probs[t];
          if (settings_.smoothing > 0) {
            double sum = 0;
            for (double lp : log_probs) sum -= lp;
            loss += settings_.smoothing / static_cast<double>(classes) * sum;
          }
          ++counted;
        }
        if (settings_.reduction == Reduction::None) y[n * inner + i] = static_cast<float>(loss);
        total += loss;
      }
    if (settings_.reduction == Reduction::Sum) y[0] = static_cast<float>(total);
    if (settings_.reduction == Reduction::Mean) y[0] = static_cast<float>(total / static_cast<double>(counted));
  }

  // d loss_i / d x_c = p_c - (1 - s) [c == t] - s / C, times the upstream
  // gradient (divided by the count for the mean).
  void backward(const BackwardArgs& args) const override {
    if (!args.grad_inputs[0].defined()) return;
    const auto [batch, classes, inner] = layout_;
    const float* x = args.inputs[0].f32();
    const int64_t* target = args.inputs[1].i64();
    const float* g = args.grad_outputs[0].f32();
    float* dx = args.grad_inputs[0].f32();
    int64_t counted = 0;
    for (int64_t k = 0; k < batch * inner; ++k) counted += target[k] != settings_.ignore_index;
    std::vector<double> log_probs(classes);
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t t = target[n * inner + i];
        float* d = dx + n * classes * inner + i;
        if (t == settings_.ignore_index) {
          for (int64_t c = 0; c < classes; ++c) d[c * inner] = 0;
          continue;
        }
        double upstream = settings_.reduction == Reduction::None ? g[n * inner + i] : g[0];
        if (settings_.reduction == Reduction::Mean) upstream /= static_cast<double>(counted);
        log_softmax(x + n * classes * inner + i, log_probs);
        const double uniform = settings_.smoothing / static_cast<double>(classes);
        for (int64_t c = 0; c < classes; ++c) {
          double grad = std::exp(log_probs[c]) - uniform - (c == t ? 1 - settings_.smoothing : 0.0);
          d[c * inner] = static_cast<float>(grad * upstream);
        }
      }
  }

 private:
  // log_softmax of one sample's logits, `inner` apart, in double.
  void log_softmax(const float* logits, std::vector<double>& out) const {
    const int64_t classes = layout_.classes, inner = layout_.inner;
    double max = -INFINITY;
    for (int64_t c = 0; c < classes; ++c) max = std::max(max, double(logits[c * inner]));
    if (std::isinf(max) && max < 0) max = 0;
    double sum = 0;
    for (int64_t c = 0; c < classes; ++c) sum += std::exp(double(logits[c * inner]) - max);
    double log_sum = std::log(sum);
    for (int64_t c = 0; c < classes; ++c) out[c] = double(logits[c * inner]) - max - log_sum;
  }

  Layout layout_;
  Settings settings_;
};

class CrossEntropyLoss final : public Op {
 public:
  explicit CrossEntropyLoss(const Attrs& attrs) {
    settings_.reduction = parse_reduction(attrs.string("reduction"));
    settings_.ignore_index = attrs.integer("ignore_index");
    settings_.smoothing = attrs.number("label_smoothing");
    if (!(settings_.smoothing >= 0 && settings_.smoothing <= 1))
      throw attrs.error("label_smoothing",
                        fmt::format("label_smoothing must be between 0.0 and 1.0. Got: {}", settings_.smoothing));
  }

  bool differentiable_input(int index) const override { return index == 0; }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    const TensorDesc &input = inputs[0], &target = inputs[1];
    check(input.dtype == DType::Float32, "cross_entropy: expected float32 logits, but got {}", dtype_name(input.dtype));
    check(target.dtype == DType::Int64,
          "cross_entropy: the target must be int64 class indices, but got {}; class-probability targets are not "
          "supported",
          dtype_name(target.dtype));
    check(!input.shape.empty(), "cross_entropy: expected logits with at least 1 dimension (the classes), but got a scalar");
    Shape expected = input.shape;
    if (expected.size() == 1) expected.clear();  // unbatched (C) logits take a scalar target
    else expected.erase(expected.begin() + 1);
    if (target.shape != expected) {
      if (input.shape.size() == 2 && target.shape.size() == 1)
        fail("Expected input batch_size ({}) to match target batch_size ({}).", extent(input.shape[0]),
             extent(target.shape[0]));
      fail("cross_entropy: the target must have shape {} for logits of shape {} (the class dimension removed), but "
           "got {}",
           to_string(expected), to_string(input.shape), to_string(target.shape));
    }
    if (settings_.reduction == Reduction::None) return {TensorDesc{DType::Float32, target.shape}};
    return {TensorDesc{DType::Float32, {}}};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    const Shape& shape = config.inputs[0].shape;
    Layout layout;
    if (shape.size() == 1) {
      layout.classes = shape[0];
    } else {
      layout.batch = shape[0];
      layout.classes = shape[1];
      for (size_t d = 2; d < shape.size(); ++d) layout.inner *= shape[d];
    }
    return naive_only<CrossEntropyKernel>(config, layout, settings_);
  }

 private:
  Settings settings_;
};

}  // namespace

void register_cross_entropy(Registry& registry) {
  registry.add({"CrossEntropyLoss", "loss", "log_softmax over the classes, then the negative log-likelihood of the target class", 0,
                {{"ignore_index", AttrType::Int, "-100", "a target value that is ignored (no loss, no gradient, not counted in the mean)"},
                 reduction_attr(),
                 {"label_smoothing", AttrType::Float, "0.0",
                  "in [0, 1]: the target becomes (1 - s) one-hot + s / C uniform"}},
                {{"input", "logits (N, C), unbatched (C), or (N, C, d1, ...) float32"},
                 {"target", "int64 class indices (N), a scalar, or (N, d1, ...)"}},
                {"output"},
                [](const Attrs& attrs) { return std::make_unique<CrossEntropyLoss>(attrs); }});
}

}  // namespace mininn::loss
