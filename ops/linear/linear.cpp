// Linear: y = x W^T + b over the last dimension, as torch.nn.Linear.
#include "framework/error.h"
#include "framework/parallel.h"
#include "ops/families.h"
#include "ops/init.h"
#include "ops/naive_only.h"
#include "ops/registry.h"

#include <vector>

namespace mininn {
namespace {

// x is (rows, in), W is (out, in); sums in double, like the other naive kernels.
struct LinearState final : KernelState {
  std::vector<float> transposed;  // the weight as (in, out), refreshed by every forward
};

class NaiveLinear final : public Kernel {
 public:
  NaiveLinear(int64_t rows, int64_t in, int64_t out, bool bias) : rows_(rows), in_(in), out_(out), bias_(bias) {}

  std::unique_ptr<KernelState> make_state() const override {
    auto state = std::make_unique<LinearState>();
    state->transposed.resize(static_cast<size_t>(in_ * out_));
    return state;
  }

  void forward(const ForwardArgs& args) const override {
    const float* x = args.inputs[0].f32();
    const float* w = args.params[0].f32();
    const float* b = bias_ ? args.params[1].f32() : nullptr;
    float* y = args.outputs[0].f32();
    const int64_t rows = rows_, in = in_, out = out_;
    // W transposed to (in, out), so the inner loop runs over independent
    // outputs and vectorises (a dot product's single sum would not). The
    // buffer lives in the state: a forward allocates nothing of this size.
    std::vector<float>& wt = static_cast<LinearState*>(args.state)->transposed;
    for (int64_t o = 0; o < out; ++o)
      for (int64_t k = 0; k < in; ++k) wt[k * out + o] = w[o * in + k];
#pragma omp parallel if (parallel_worth(rows * in * out))
    {
      std::vector<double> acc(out);
#pragma omp for schedule(static)
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t o = 0; o < out; ++o) acc[o] = b ? b[o] : 0.0;
        const float* xr = x + r * in;
        for (int64_t k = 0; k < in; ++k) {
          const double xk = xr[k];
          const float* wk = wt.data() + k * out;
          for (int64_t o = 0; o < out; ++o) acc[o] += xk * wk[o];
        }
        for (int64_t o = 0; o < out; ++o) y[r * out + o] = static_cast<float>(acc[o]);
      }
    }
  }

  void backward(const BackwardArgs& args) const override {
    const float* x = args.inputs[0].f32();
    const float* w = args.params[0].f32();
    const float* g = args.grad_outputs[0].f32();
    const int64_t rows = rows_, in = in_, out = out_;
    const bool parallel = parallel_worth(rows * in * out);
    if (Tensor& grad_x = args.grad_inputs[0]; grad_x.defined()) {  // dx = g W
      float* dx = grad_x.f32();
#pragma omp parallel if (parallel)
      {
        std::vector<double> acc(in);
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
          std::fill(acc.begin(), acc.end(), 0.0);
          for (int64_t o = 0; o < out; ++o) {
            double go = g[r * out + o];
            const float* wo = w + o * in;
            for (int64_t k = 0; k < in; ++k) acc[k] += go * wo[k];
          }
          for (int64_t k = 0; k < in; ++k) dx[r * in + k] = static_cast<float>(acc[k]);
        }
      }
    }
    if (Tensor& grad_w = args.grad_params[0]; grad_w.defined()) {  // dW = g^T x
      float* dw = grad_w.f32();
#pragma omp parallel if (parallel)
      {
        std::vector<double> acc(in);
#pragma omp for schedule(static)
        for (int64_t o = 0; o < out; ++o) {
          std::fill(acc.begin(), acc.end(), 0.0);
          for (int64_t r = 0; r < rows; ++r) {
            double gr = g[r * out + o];
            const float* xr = x + r * in;
            for (int64_t k = 0; k < in; ++k) acc[k] += gr * xr[k];
          }
          for (int64_t k = 0; k < in; ++k) dw[o * in + k] = static_cast<float>(acc[k]);
        }
      }
    }
    if (bias_ && args.grad_params[1].defined()) {  // db = sum of g over rows
      float* db = args.grad_params[1].f32();
      for (int64_t o = 0; o < out; ++o) {
        double sum = 0;
        for (int64_t r = 0; r < rows; ++r) sum += g[r * out + o];
        db[o] = static_cast<float>(sum);
      }
    }
  }

 private:
  int64_t rows_, in_, out_;
  bool bias_;
};

class Linear final : public Op {
 public:
  explicit Linear(const Attrs& attrs)
      : in_(attrs.integer("in_features")), out_(attrs.integer("out_features")), bias_(attrs.boolean("bias")) {
    if (in_ <= 0) throw attrs.error("in_features", "in_features must be a positive integer");
    if (out_ <= 0) throw attrs.error("out_features", "out_features must be a positive integer");
  }

  // torch.nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)), then the bias.
  std::vector<ParamDecl> params() const override {
    std::vector<ParamDecl> out = {{"weight", {out_, in_}, {DefaultInit::Uniform, default_weight_bound(in_)}}};
    if (bias_) out.push_back({"bias", {out_}, {DefaultInit::Uniform, default_bias_bound(in_)}});
    return out;
  }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    const Shape& shape = inputs[0].shape;
    check(inputs[0].dtype == DType::Float32, "linear: expected a float32 input, but got {}", dtype_name(inputs[0].dtype));
    check(!shape.empty(), "linear: expected an input with at least 1 dimension, but got a scalar");
    if (shape.back() != in_) {
      std::string rows = "1";
      if (shape.size() > 1) {
        int64_t count = 1;
        bool dynamic = false;
        for (size_t d = 0; d + 1 < shape.size(); ++d) {
          if (shape[d] == kDynamic) dynamic = true;
          else count *= shape[d];
        }
        rows = dynamic ? (count == 1 ? "N" : fmt::format("N*{}", count)) : std::to_string(count);
      }
      fail("mat1 and mat2 shapes cannot be multiplied ({}x{} and {}x{}): the input's last dimension must be "
           "in_features={}",
           rows, shape.back(), in_, out_, in_);
    }
    Shape out = shape;
    out.back() = out_;
    return {TensorDesc{DType::Float32, out}};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    const Shape& shape = config.inputs[0].shape;
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < shape.size(); ++d) rows *= shape[d];
    return naive_only<NaiveLinear>(config, rows, in_, out_, bias_);
  }

 private:
  int64_t in_, out_;
  bool bias_;
};

}  // namespace

void register_linear_ops(Registry& registry) {
  registry.add({"Linear", "linear", "y = x W^T + b over the last dimension", 0,
                {{"in_features", AttrType::Int, "", "size of each input sample (the last dimension)"},
                 {"out_features", AttrType::Int, "", "size of each output sample"},
                 {"bias", AttrType::Bool, "true", "add a learnable bias"}},
                {{"input", "(*, in_features) float32"}},
                {"output"},
                [](const Attrs& attrs) { return std::make_unique<Linear>(attrs); }});
}

}  // namespace mininn
