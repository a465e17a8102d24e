// Shared by the test_onednn*.cpp files: build one op from its attributes,
// compile it for a backend, run forward (and backward) on given tensors.
#pragma once

#include "framework/error.h"
#include "framework/tensor.h"
#include "ops/registry.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace mininn::testing {

struct OpUnderTest {
  std::unique_ptr<Op> op;
  std::vector<TensorDesc> outputs;
};

// The op `name` with `attrs`, shape-inferred for `input`; throws Error when
// the configuration is invalid (the caller skips it).
inline OpUnderTest make_op(const std::string& name, const nlohmann::json& attrs, const Shape& input) {
  const OpSchema* schema = registry().find(name);
  if (!schema) throw std::runtime_error("no op " + name);
  OpUnderTest out;
  out.op = schema->create(Attrs(schema->attrs, attrs, "attrs", schema->spatial_rank));
  out.outputs = out.op->infer({TensorDesc{DType::Float32, input}});
  return out;
}

struct RunResult {
  std::vector<Tensor> outputs;
  Tensor grad_input;
  std::vector<Tensor> grad_params;
  Dispatch dispatch;
  int primitives = 0;
};

// Compiles `op` for `backend` and runs forward, then (when `grad_output`
// is defined) backward with that upstream gradient for output 0.
inline RunResult run_op(const OpUnderTest& t, const Tensor& input, const std::vector<Tensor>& params, Backend backend,
                        const Tensor& grad_output = Tensor(), bool compile_backward = true) {
  KernelConfig config;
  config.inputs = {input.desc()};
  config.outputs = t.outputs;
  for (const Tensor& p : params) config.params.push_back(p.desc());
  config.backend = backend;
  config.needs_backward = compile_backward;
  std::unique_ptr<Kernel> kernel = t.op->make_kernel(config);
  std::unique_ptr<KernelState> state = kernel->make_state();
  RunResult r;
  r.dispatch = kernel->dispatch;
  r.primitives = kernel->primitives_created();
  for (const TensorDesc& d : t.outputs) r.outputs.push_back(Tensor::empty(d.shape, d.dtype));
  std::vector<Tensor> inputs = {input};
  kernel->forward({inputs, params, r.outputs, state.get()});
  if (grad_output.defined() && compile_backward) {
    std::vector<Tensor> grad_outputs = {grad_output};
    for (size_t i = 1; i < r.outputs.size(); ++i) grad_outputs.push_back(Tensor());
    std::vector<Tensor> grad_inputs = {Tensor::empty(input.shape())};
    for (const Tensor& p : params) r.grad_params.push_back(Tensor::empty(p.shape()));
    // Poison the gradients: a kernel must overwrite every element.
    grad_inputs[0].fill(std::nanf(""));
    for (Tensor& g : r.grad_params) g.fill(std::nanf(""));
    kernel->backward({inputs, params, r.outputs, grad_outputs, grad_inputs, r.grad_params, state.get()});
    r.grad_input = grad_inputs[0];
  }
  return r;
}

// Bit-identical floats (every NaN equals every NaN).
inline bool same_bits(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Index of the first element where `a` and `b` differ bitwise, or -1.
inline int64_t first_bit_difference(const Tensor& a, const Tensor& b) {
  if (a.dtype() == DType::Int64) {
    for (int64_t i = 0; i < a.numel(); ++i)
      if (a.i64()[i] != b.i64()[i]) return i;
    return -1;
  }
  for (int64_t i = 0; i < a.numel(); ++i)
    if (!same_bits(a.f32()[i], b.f32()[i])) return i;
  return -1;
}

// Largest |a-b| / (1 + |b|) over finite pairs; infinities and NaN must match
// exactly (returns +inf otherwise).
inline double max_relative_error(const Tensor& a, const Tensor& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    float x = a.f32()[i], y = b.f32()[i];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      if (!same_bits(x, y) && !(x == y)) return INFINITY;
      continue;
    }
    worst = std::max(worst, std::abs(double(x) - double(y)) / (1 + std::abs(double(y))));
  }
  return worst;
}

// Small integers as floats: sums and maxima are exact, ties are common.
inline Tensor integer_tensor(const Shape& shape, std::mt19937& rng, int range = 5) {
  Tensor t = Tensor::empty(shape);
  std::uniform_int_distribution<int> dist(-range, range);
  for (float& v : t.floats()) v = static_cast<float>(dist(rng));
  return t;
}

inline Tensor uniform_tensor(const Shape& shape, std::mt19937& rng, float bound = 1.0f) {
  Tensor t = Tensor::empty(shape);
  std::uniform_real_distribution<float> dist(-bound, bound);
  for (float& v : t.floats()) v = dist(rng);
  return t;
}

// Random values with the awkward ones mixed in: +-0, denormals, and unless
// `finite_only` huge values, NaN and +-inf.
inline void fill_awkward(float* x, int64_t count, std::mt19937& rng, bool finite_only = false) {
  const float inf = std::numeric_limits<float>::infinity();
  const float specials[] = {-0.0f, 0.0f, -1e-45f, 1e-45f, -2.5f,
                            3e38f, -3e38f, std::numeric_limits<float>::quiet_NaN(), inf, -inf};
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::uniform_int_distribution<int> pick(0, 39), special(0, finite_only ? 4 : 9);
  for (int64_t i = 0; i < count; ++i) x[i] = pick(rng) < 3 ? specials[special(rng)] : value(rng);
}

}  // namespace mininn::testing
