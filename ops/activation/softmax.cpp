// Softmax and LogSoftmax along one dimension.
#include "framework/error.h"
#include "framework/parallel.h"
#include "ops/activation/activation.h"
#include "ops/naive_only.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mininn::activation {

int legacy_softmax_dim(size_t rank) { return rank == 0 || rank == 1 || rank == 3 ? 0 : 1; }

int64_t wrap_dim(int64_t dim, size_t rank) {
  int64_t extent = std::max<int64_t>(static_cast<int64_t>(rank), 1);  // a scalar takes dim 0 or -1
  check(dim >= -extent && dim < extent, "Dimension out of range (expected to be in range of [{}, {}], but got {})",
        -extent, extent - 1, dim);
  return dim < 0 ? dim + extent : dim;
}

void softmax_forward(const float* x, float* y, int64_t outer, int64_t size, int64_t inner, bool log) {
#pragma omp parallel for collapse(2) schedule(static) if (parallel_worth(outer * inner * size))
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* in = x + o * size * inner + i;
      float* out = y + o * size * inner + i;
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < size; ++k) max = std::max(max, double(in[k * inner]));
      if (std::isinf(max) && max < 0) max = 0;  // every entry -inf: keep exp finite, as torch does
      double sum = 0;
      for (int64_t k = 0; k < size; ++k) sum += std::exp(double(in[k * inner]) - max);
      if (log) {
        double log_sum = std::log(sum);
        for (int64_t k = 0; k < size; ++k) out[k * inner] = static_cast<float>(double(in[k * inner]) - max - log_sum);
      } else {
        for (int64_t k = 0; k < size; ++k) out[k * inner] = static_cast<float>(std::exp(double(in[k * inner]) - max) / sum);
      }
    }
}

namespace {

struct Layout {
  int64_t outer = 1, size = 1, inner = 1;
};

Layout layout_of(const Shape& shape, int64_t dim) {
  Layout l;
  for (size_t d = 0; d < shape.size(); ++d) {
    int64_t extent = shape[d] == kDynamic ? 1 : shape[d];
    if (static_cast<int64_t>(d) < dim) l.outer *= extent;
    else if (static_cast<int64_t>(d) == dim) l.size = extent;
    else l.inner *= extent;
  }
  return l;
}

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(Layout layout, bool log) : layout_(layout), log_(log) {}

  void forward(const ForwardArgs& args) const override {
    softmax_forward(args.inputs[0].f32(), args.outputs[0].f32(), layout_.outer, layout_.size, layout_.inner, log_);
  }

  // softmax: dx = y * (g - sum(g * y)); log_softmax: dx = g - exp(y) * sum(g).
  void backward(const BackwardArgs& args) const override {
    if (!args.grad_inputs[0].defined()) return;
    const float* y = args.outputs[0].f32();
    const float* g = args.grad_outputs[0].f32();
    float* dx = args.grad_inputs[0].f32();
    // Plain copies, not a structured binding: clang 14 cannot use one inside an OpenMP region.
    const int64_t outer = layout_.outer, size = layout_.size, inner = layout_.inner;
    const bool log = log_;
#pragma omp parallel for collapse(2) schedule(static) if (parallel_worth(outer * inner * size))
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * size * inner + i;
        double sum = 0;
        for (int64_t k = 0; k < size; ++k) {
          int64_t at = base + k * inner;
          sum += log ? double(g[at]) : double(g[at]) * y[at];
        }
        for (int64_t k = 0; k < size; ++k) {
          int64_t at = base + k * inner;
          dx[at] = log ? static_cast<float>(g[at] - std::exp(double(y[at])) * sum)
                       : static_cast<float>(double(y[at]) * (g[at] - sum));
        }
      }
  }

 private:
  Layout layout_;
  bool log_;
};

class Softmax final : public Op {
 public:
  Softmax(const Attrs& attrs, bool log) : log_(log) {
    if (!attrs.is_null("dim")) dim_ = attrs.integer("dim");
  }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    check(inputs[0].dtype == DType::Float32, "{}: expected a float32 input, but got {}", name(),
          dtype_name(inputs[0].dtype));
    dim(inputs[0].shape);  // checks the range
    return {inputs[0]};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    const Shape& shape = config.inputs[0].shape;
    return naive_only<SoftmaxKernel>(config, layout_of(shape, dim(shape)), log_);
  }

 private:
  const char* name() const { return log_ ? "log_softmax" : "softmax"; }
  int64_t dim(const Shape& shape) const {
    return dim_ ? wrap_dim(*dim_, shape.size()) : legacy_softmax_dim(shape.size());
  }

  std::optional<int64_t> dim_;
  bool log_;
};

AttrSpec dim_attr() {
  return {"dim", AttrType::Int, "null",
          "the dimension to normalise over; null: PyTorch's legacy choice (0 for 0-, 1- and 3-d inputs, else 1)",
          {},
          true};
}

}  // namespace

void register_softmax(Registry& registry) {
  registry.add({"Softmax", "activation", "exp(x) / sum(exp(x)) along dim", 0, {dim_attr()},
                {{"input", "float32 of any shape"}}, {"output"},
                [](const Attrs& attrs) { return std::make_unique<Softmax>(attrs, false); }});
  registry.add({"LogSoftmax", "activation", "log(softmax(x)) along dim, computed stably", 0, {dim_attr()},
                {{"input", "float32 of any shape"}}, {"output"},
                [](const Attrs& attrs) { return std::make_unique<Softmax>(attrs, true); }});
}

}  // namespace mininn::activation
