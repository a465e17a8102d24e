// LPPool1d/2d/3d and FractionalMaxPool2d/3d: golden values from the spec and
// from torch 1.13 (/usr/bin/python3), every error with its message, the
// sample-to-axis rule, and -inf/NaN/tied windows. tests/conformance compares
// hundreds of random configurations against PyTorch.
#include "framework/error.h"
#include "framework/rng.h"
#include "graph/executor.h"
#include "graph/graph.h"
#include "ops/pool/geometry.h"
#include "ops/registry.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace mininn {
namespace {

using nlohmann::json;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

Tensor tensor(const Shape& shape, const std::vector<float>& values) {
  Tensor t = Tensor::empty(shape);
  EXPECT_EQ(static_cast<size_t>(t.numel()), values.size());
  for (size_t i = 0; i < values.size(); ++i) t.f32()[i] = values[i];
  return t;
}

Tensor arange(const Shape& shape, float start = 0) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = start + static_cast<float>(i);
  return t;
}

std::vector<float> floats(const Tensor& t) { return {t.f32(), t.f32() + t.numel()}; }
std::vector<int64_t> ints(const Tensor& t) { return {t.i64(), t.i64() + t.numel()}; }

// One op run directly through its schema, Op and naive Kernel, as the
// executor would (without a graph, so attributes such as norm_type = inf,
// which JSON cannot spell, can be tested).
struct OpRun {
  std::unique_ptr<Op> op;
  std::unique_ptr<Kernel> kernel;
  std::unique_ptr<KernelState> state;
  std::vector<Tensor> inputs, outputs;

  Tensor backward(const Tensor& grad_output) {
    std::vector<Tensor> grad_outputs{grad_output};
    if (outputs.size() > 1) grad_outputs.emplace_back();
    std::vector<Tensor> grad_inputs{Tensor::empty(inputs[0].shape())};
    for (size_t i = 1; i < inputs.size(); ++i) grad_inputs.emplace_back();
    kernel->backward({inputs, {}, outputs, grad_outputs, grad_inputs, {}, state.get()});
    return grad_inputs[0];
  }
  Tensor backward_ones() { return backward(Tensor::full(outputs[0].shape(), 1.0f)); }
};

std::unique_ptr<Op> create(const std::string& name, const json& attrs) {
  const OpSchema* schema = registry().find(name);
  if (!schema) throw Error("no op " + name);
  return schema->create(Attrs(schema->attrs, attrs, "attrs", schema->spatial_rank));
}

OpRun run(const std::string& name, const json& attrs, std::vector<Tensor> inputs, uint64_t seed = 0) {
  OpRun r;
  r.op = create(name, attrs);
  std::vector<TensorDesc> descs;
  for (const Tensor& t : inputs) descs.push_back(t.desc());
  KernelConfig config;
  config.inputs = descs;
  config.outputs = r.op->infer(descs);
  config.backend = Backend::Naive;
  config.needs_backward = true;
  config.seed = seed;
  r.kernel = r.op->make_kernel(config);
  r.state = r.kernel->make_state();
  for (const TensorDesc& d : config.outputs) r.outputs.push_back(Tensor::empty(d.shape, d.dtype));
  r.inputs = std::move(inputs);
  r.kernel->forward({r.inputs, {}, r.outputs, r.state.get()});
  return r;
}

std::vector<TensorDesc> infer(const std::string& name, const json& attrs, const std::vector<TensorDesc>& inputs) {
  return create(name, attrs)->infer(inputs);
}

template <typename Body>
void expect_error(Body&& body, std::initializer_list<const char*> parts) {
  try {
    body();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    std::string message = e.what();
    for (const char* part : parts)
      EXPECT_NE(message.find(part), std::string::npos) << "missing '" << part << "' in: " << message;
  }
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want, float rtol = 1e-6f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "at " << i << ": " << got[i];
    } else if (std::isinf(want[i])) {
      EXPECT_EQ(got[i], want[i]) << "at " << i;
    } else {
      EXPECT_NEAR(got[i], want[i], rtol * std::max(1.0f, std::fabs(want[i]))) << "at " << i;
    }
  }
}

TensorDesc f32(const Shape& shape) { return {DType::Float32, shape}; }

// ---------------------------------------------------------------- LPPool

TEST(LPPool, GoldenValuesFromTheSpec) {
  Tensor x = arange({1, 1, 5}, 1);
  expect_near(floats(run("LPPool1d", {{"norm_type", 2}, {"kernel_size", 2}}, {x}).outputs[0]), {2.23607f, 5.0f}, 1e-5f);
  expect_near(floats(run("LPPool1d", {{"norm_type", 2}, {"kernel_size", 2}, {"stride", 1}}, {x}).outputs[0]),
              {2.23607f, 3.60555f, 5.0f, 6.40312f}, 1e-5f);
}

TEST(LPPool, CeilModeRescalesPartialWindowsByKOverCount) {
  // The last window holds only 5: sqrt(25 * 2/1), not 5.
  OpRun r = run("LPPool1d", {{"norm_type", 2}, {"kernel_size", 2}, {"ceil_mode", true}}, {arange({1, 1, 5}, 1)});
  expect_near(floats(r.outputs[0]), {2.2360680f, 5.0f, 7.0710678f});
  expect_near(floats(r.backward_ones()), {0.4472136f, 0.8944272f, 0.6f, 0.8f, 1.4142137f});

  Tensor ones = Tensor::full({1, 1, 5}, 1.0f);
  expect_near(floats(run("LPPool1d", {{"norm_type", 1}, {"kernel_size", 2}, {"ceil_mode", true}}, {ones}).outputs[0]),
              {2, 2, 2});
  expect_near(
      floats(run("LPPool2d", {{"norm_type", 2}, {"kernel_size", 2}, {"ceil_mode", true}}, {arange({1, 1, 3, 3}, 1)})
                 .outputs[0]),
      {6.78233f, 9.48683f, 15.0333f, 18.0f}, 1e-5f);
  // p = 3, kernel (1, 2) on 2x3: the last column is a partial window.
  expect_near(floats(run("LPPool2d", {{"norm_type", 3}, {"kernel_size", {1, 2}}, {"ceil_mode", true}},
                         {tensor({1, 1, 2, 3}, {1, 2, 3, 4, 5, 6})})
                         .outputs[0]),
              {2.0800838f, 3.7797632f, 5.7387934f, 7.5595264f}, 1e-6f);
}

TEST(LPPool, NoAbsOnTheInput) {
  // p = 1 keeps the sign; a window summing to 0 (A == 0) gets gradient 0.
  OpRun neg = run("LPPool1d", {{"norm_type", 1}, {"kernel_size", 2}}, {tensor({1, 1, 4}, {-1, -2, -3, -4})});
  expect_near(floats(neg.outputs[0]), {-3, -7});
  expect_near(floats(neg.backward_ones()), {1, 1, 1, 1});
  OpRun mixed = run("LPPool1d", {{"norm_type", 1}, {"kernel_size", 2}}, {tensor({1, 1, 6}, {-1, -2, 3, -4, 2, -2})});
  expect_near(floats(mixed.outputs[0]), {-3, -1, 0});
  expect_near(floats(mixed.backward_ones()), {1, 1, 1, 1, 0, 0});

  // Odd p: a negative window sum has no real root -> NaN, and so do its grads.
  OpRun cube = run("LPPool1d", {{"norm_type", 3}, {"kernel_size", 2}}, {tensor({1, 1, 6}, {-1, -2, 3, 1, 2, -2})});
  expect_near(floats(cube.outputs[0]), {kNaN, 3.0365889f, 0});
  expect_near(floats(cube.backward_ones()), {kNaN, kNaN, 0.9760465f, 0.1084496f, 0, 0});

  // Fractional p: any negative element is NaN.
  OpRun frac = run("LPPool1d", {{"norm_type", 1.5}, {"kernel_size", 2}}, {tensor({1, 1, 4}, {-1, 2, 3, 1})});
  expect_near(floats(frac.outputs[0]), {kNaN, 3.3735051f});
  expect_near(floats(frac.backward_ones()), {kNaN, kNaN, 0.9430180f, 0.5444517f}, 1e-5f);

  // Even p is the true norm, and its gradient keeps the input's sign.
  OpRun even = run("LPPool1d", {{"norm_type", 2}, {"kernel_size", 2}}, {tensor({1, 1, 4}, {-1, -2, 3, 0})});
  expect_near(floats(even.outputs[0]), {2.2360680f, 3});
  expect_near(floats(even.backward_ones()), {-0.4472136f, -0.8944272f, 1, 0});
}

TEST(LPPool, GradientIsZeroWhereTheWindowSumIsZero) {
  OpRun r = run("LPPool1d", {{"norm_type", 2}, {"kernel_size", 2}}, {tensor({1, 1, 4}, {0, 0, 3, 0})});
  expect_near(floats(r.outputs[0]), {0, 3});
  expect_near(floats(r.backward_ones()), {0, 0, 1, 0});
  // p < 1: A == 0 stops the gradient at A, but pow's own backward at x = 0
  // is 0 * inf = NaN, as in PyTorch; a non-zero window gives inf there.
  OpRun half = run("LPPool1d", {{"norm_type", 0.5}, {"kernel_size", 2}}, {tensor({1, 1, 6}, {0, 0, 3, 0, 1, 2})});
  expect_near(floats(half.outputs[0]), {0, 3, 5.8284278f}, 1e-6f);
  expect_near(floats(half.backward_ones()), {kNaN, kNaN, 1, kInf, 2.4142137f, 1.7071068f}, 1e-6f);
  // Overflow and underflow of x^p: inf out with gradient 0; 0 out with gradient 0.
  OpRun extreme =
      run("LPPool1d", {{"norm_type", 2}, {"kernel_size", 2}}, {tensor({1, 1, 4}, {1e20f, 1e20f, 1e-30f, 1e-30f})});
  expect_near(floats(extreme.outputs[0]), {kInf, 0});
  expect_near(floats(extreme.backward_ones()), {0, 0, 0, 0});
}

TEST(LPPool, DegenerateNormTypes) {
  // p = inf: x^inf then ^0 gives 1 everywhere (not max pooling); the
  // gradient is 0 * inf = NaN, as in PyTorch.
  Tensor x = tensor({1, 1, 6}, {0.5f, 0.2f, 3, 0, 1, 1});
  OpRun inf = run("LPPool1d", {{"norm_type", std::numeric_limits<double>::infinity()}, {"kernel_size", 2}}, {x});
  expect_near(floats(inf.outputs[0]), {1, 1, 1});
  expect_near(floats(inf.backward_ones()), {kNaN, kNaN, kNaN, kNaN, kNaN, kNaN});
  // Negative p works through the same formula (x = 0 makes x^-1 infinite).
  OpRun minus_one = run("LPPool1d", {{"norm_type", -1}, {"kernel_size", 2}}, {x});
  expect_near(floats(minus_one.outputs[0]), {0.1428571f, 0, 0.5f});
  expect_near(floats(minus_one.backward_ones()), {0.0816327f, 0.5102040f, 0, kNaN, 0.25f, 0.25f}, 1e-5f);

  expect_error(
      [] {
        create("LPPool2d", {{"norm_type", 0}, {"kernel_size", 2}});
      },
      {"attrs.norm_type", "norm_type must not be 0", "ZeroDivisionError"});
}

TEST(LPPool, NonFiniteInputs) {
  OpRun r = run("LPPool1d", {{"norm_type", 2}, {"kernel_size", 2}}, {tensor({1, 1, 6}, {kNaN, 0.2f, 3, 1, kInf, 1})});
  expect_near(floats(r.outputs[0]), {kNaN, 3.1622777f, kInf});
  expect_near(floats(r.backward_ones()), {kNaN, kNaN, 0.9486833f, 0.3162278f, kNaN, 0});
}

TEST(LPPool, ThreeDIsTheSameFormulaOverAvgPool3d) {
  // torch 1.13 has no LPPool3d: the reference is
  // (sign(A)*relu(|A|)).mul(12).pow(0.5), A = avg_pool3d(x^2, (2,2,3), (1,2,2), 0, ceil_mode=True).
  OpRun r = run("LPPool3d", {{"norm_type", 2}, {"kernel_size", {2, 2, 3}}, {"stride", {1, 2, 2}}, {"ceil_mode", true}},
                {arange({1, 1, 2, 3, 4}, 1)});
  EXPECT_EQ(r.outputs[0].shape(), (Shape{1, 1, 1, 2, 2}));
  expect_near(floats(r.outputs[0]), {41.085278f, 45.497253f, 59.262131f, 64.109283f});
  expect_near(floats(r.backward_ones()),
              {0.02433962f, 0.04867924f, 0.17192593f, 0.13187610f, 0.12169809f, 0.14603771f, 0.40116051f, 0.26375219f,
               0.30373529f, 0.33748364f, 0.88597804f, 0.56154114f, 0.31641504f, 0.34075466f, 0.85962963f, 0.52750438f,
               0.41377351f, 0.43811312f, 1.08886421f, 0.65938050f, 0.70871568f, 0.74246407f, 1.85249949f, 1.12308228f},
              1e-5f);
  // avg_pool3d refuses an input smaller than the kernel even under ceil_mode; so does LPPool3d.
  expect_error(
      [] {
        infer("LPPool3d", {{"norm_type", 2}, {"kernel_size", 3}, {"ceil_mode", true}}, {f32({1, 1, 2, 5, 5})});
      },
      {"lp_pool3d: input image (T: 2 H: 5 W: 5) smaller than kernel size (kT: 3 kH: 3 kW: 3)"});
}

TEST(LPPool, ShapesBatchingAndTupleKernels) {
  // Unbatched is batched with N = 1; N = 0 gives an empty output.
  Tensor x = arange({2, 7}, 1);
  OpRun unbatched = run("LPPool1d", {{"norm_type", 2}, {"kernel_size", 3}}, {x});
  OpRun batched = run("LPPool1d", {{"norm_type", 2}, {"kernel_size", 3}}, {x.reshaped({1, 2, 7})});
  EXPECT_EQ(unbatched.outputs[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(floats(unbatched.outputs[0]), floats(batched.outputs[0]));
  EXPECT_EQ(infer("LPPool2d", {{"norm_type", 2}, {"kernel_size", 2}}, {f32({0, 1, 4, 5})})[0].shape,
            (Shape{0, 1, 2, 2}));
  // A dynamic batch passes through.
  EXPECT_EQ(infer("LPPool2d", {{"norm_type", 2}, {"kernel_size", 2}}, {f32({kDynamic, 3, 4, 5})})[0].shape,
            (Shape{kDynamic, 3, 2, 2}));
  // 1.13's LPPool1d raises TypeError on kernel_size=(2,); mininn takes the list.
  expect_near(floats(run("LPPool1d", {{"norm_type", 2}, {"kernel_size", {2}}}, {arange({1, 1, 5}, 1)}).outputs[0]),
              {2.23607f, 5.0f}, 1e-5f);
  // Different kernel and stride per axis (K = 2*3 = 6).
  EXPECT_EQ(
      infer("LPPool2d", {{"norm_type", 1.5}, {"kernel_size", {2, 3}}, {"stride", {1, 2}}}, {f32({3, 7, 7})})[0].shape,
      (Shape{3, 6, 3}));
}

TEST(LPPool, Errors) {
  auto lp1 = [](json attrs, Shape shape) { return [=] { infer("LPPool1d", attrs, {f32(shape)}); }; };
  expect_error(lp1({{"norm_type", 2}, {"kernel_size", 0}}, {1, 1, 5}), {"lp_pool1d: stride should not be zero"});
  expect_error(lp1({{"norm_type", 2}, {"kernel_size", 2}, {"stride", 0}}, {1, 1, 5}), {"stride should not be zero"});
  expect_error(lp1({{"norm_type", 2}, {"kernel_size", 0}, {"stride", 1}}, {1, 1, 5}),
               {"kernel size should be greater than zero"});
  expect_error(lp1({{"norm_type", 2}, {"kernel_size", 2}, {"stride", -1}}, {1, 1, 5}),
               {"stride should be greater than zero"});
  expect_error(lp1({{"norm_type", 2}, {"kernel_size", 6}}, {1, 1, 5}),
               {"Given input size: (1x5). Calculated output size: (1x0). Output size is too small"});
  expect_error(lp1({{"norm_type", 2}, {"kernel_size", 2}}, {5}), {"lp_pool1d: Expected 2D or 3D (batch mode) tensor"});
  expect_error(lp1({{"norm_type", 2}, {"kernel_size", 2}}, {1, 0, 5}), {"Expected 2D or 3D", "[1, 0, 5]"});
  expect_error(
      [] {
        infer("LPPool2d", {{"norm_type", 2}, {"kernel_size", 2}}, {{DType::Int64, {1, 1, 4, 4}}});
      },
      {"expected a float32 input, but got int64"});
  expect_error([] { create("LPPool2d", {{"norm_type", 2}, {"kernel_size", {2, 2, 2}}}); }, {"kernel_size"});
  expect_error([] { create("LPPool2d", {{"kernel_size", 2}}); }, {"missing required attribute 'norm_type'"});
  expect_error(
      [] {
        create("LPPool2d", {{"norm_type", 2}, {"kernel_size", 2}, {"padding", 1}});
      },
      {"unknown attribute 'padding'"});
}

// ------------------------------------------------------ FractionalMaxPool

TEST(FractionalMaxPool, IntervalSequence) {
  auto sequence = [](float u, int64_t in, int64_t out, int64_t kernel) {
    std::vector<int64_t> s;
    for (int64_t i = 0; i < out; ++i) s.push_back(pool::fractional_start(i, u, in, out, kernel));
    return s;
  };
  EXPECT_EQ(sequence(0.5f, 25, 7, 3), (std::vector<int64_t>{0, 4, 8, 11, 15, 19, 22}));
  EXPECT_EQ(sequence(0.999f, 100, 10, 2), (std::vector<int64_t>{0, 11, 22, 33, 44, 55, 66, 77, 87, 98}));
  EXPECT_EQ(sequence(0.3f, 10, 4, 4), (std::vector<int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(sequence(0.7f, 5, 1, 2), (std::vector<int64_t>{3}));  // one window, flush with the end
  // The edges of the sample range stay inside the input.
  EXPECT_EQ(sequence(1.0f, 13, 4, 2), (std::vector<int64_t>{0, 4, 8, 11}));
  EXPECT_EQ(sequence(0.0f, 13, 4, 2), (std::vector<int64_t>{0, 3, 7, 11}));
}

TEST(FractionalMaxPool, SampleZeroDrivesWidthIn2d) {
  // arange input: every window's maximum is its last cell. With samples
  // (0.1, 0.9), W uses 0.1 -> starts [0, 4, 7, 11], H uses 0.9 -> [0, 3, 7, 11].
  Tensor x = arange({1, 1, 13, 13});
  OpRun r = run("FractionalMaxPool2d", {{"kernel_size", 2}, {"output_size", 4}, {"return_indices", true}},
                {x, tensor({1, 1, 2}, {0.1f, 0.9f})});
  std::vector<int64_t> want;
  for (int64_t h : {0, 3, 7, 11})
    for (int64_t w : {0, 4, 7, 11}) want.push_back((h + 1) * 13 + w + 1);
  EXPECT_EQ(ints(r.outputs[1]), want);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(r.outputs[0].f32()[i], static_cast<float>(want[i]));

  // torch 1.13 on a 7x10 arange, k = 2, output (3, 4).
  Tensor x2 = arange({1, 1, 7, 10});
  auto indices = [&](float u0, float u1) {
    return ints(run("FractionalMaxPool2d", {{"kernel_size", 2}, {"output_size", {3, 4}}, {"return_indices", true}},
                    {x2, tensor({1, 1, 2}, {u0, u1})})
                    .outputs[1]);
  };
  EXPECT_EQ(indices(0.2f, 0.7f), (std::vector<int64_t>{11, 14, 16, 19, 41, 44, 46, 49, 61, 64, 66, 69}));
  EXPECT_EQ(indices(0.7f, 0.2f), (std::vector<int64_t>{11, 14, 17, 19, 41, 44, 47, 49, 61, 64, 67, 69}));
}

TEST(FractionalMaxPool, SamplesDriveTimeHeightWidthIn3d) {
  // 13^3 arange, k = 2, output 4: 0.1 -> [0, 4, 7, 11], 0.5 -> [0, 4, 8, 11],
  // 0.9 -> [0, 3, 7, 11]. Checked against torch 1.13.
  Tensor x = arange({1, 1, 13, 13, 13});
  OpRun r = run("FractionalMaxPool3d", {{"kernel_size", 2}, {"output_size", 4}, {"return_indices", true}},
                {x, tensor({1, 1, 3}, {0.1f, 0.5f, 0.9f})});
  std::vector<int64_t> want;
  for (int64_t t : {0, 4, 7, 11})
    for (int64_t h : {0, 4, 8, 11})
      for (int64_t w : {0, 3, 7, 11}) want.push_back(((t + 1) * 13 + h + 1) * 13 + w + 1);
  EXPECT_EQ(ints(r.outputs[1]), want);
}

TEST(FractionalMaxPool, OneOutputIsTheLastWindow) {
  OpRun r = run("FractionalMaxPool2d", {{"kernel_size", 2}, {"output_size", 1}, {"return_indices", true}},
                {arange({1, 1, 5, 5}), tensor({1, 1, 2}, {0.3f, 0.6f})});
  EXPECT_EQ(floats(r.outputs[0]), (std::vector<float>{24}));
  EXPECT_EQ(ints(r.outputs[1]), (std::vector<int64_t>{24}));
}

TEST(FractionalMaxPool, TiesNaNAndMinusInfinity) {
  // 4x4, k = 2, output 2: the windows are the four 2x2 blocks for any sample.
  Tensor x = tensor({1, 1, 4, 4}, {
                                      3, 3, 1, kNaN,          //
                                      3, 3, kNaN, 5,          //
                                      -kInf, -kInf, kNaN, 2,  //
                                      -kInf, -kInf, 7, kNaN,  //
                                  });
  OpRun r = run("FractionalMaxPool2d", {{"kernel_size", 2}, {"output_size", 2}, {"return_indices", true}},
                {x, tensor({1, 1, 2}, {0.25f, 0.75f})});
  // A tie keeps the first maximum; the last NaN wins; an all -inf window
  // reports its first cell.
  EXPECT_EQ(ints(r.outputs[1]), (std::vector<int64_t>{0, 6, 8, 15}));
  expect_near(floats(r.outputs[0]), {3, kNaN, -kInf, kNaN});
  expect_near(floats(r.backward_ones()), {1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1});
}

TEST(FractionalMaxPool, BackwardScatterAddsOverlappingWindows) {
  // k = 3 with output 4 on 5: windows overlap, gradients accumulate.
  Tensor x = arange({1, 1, 1, 5});
  OpRun r = run("FractionalMaxPool2d", {{"kernel_size", {1, 3}}, {"output_size", {1, 3}}, {"return_indices", true}},
                {x, tensor({1, 1, 2}, {0.5f, 0.5f})});
  EXPECT_EQ(ints(r.outputs[1]), (std::vector<int64_t>{2, 3, 4}));
  expect_near(floats(r.backward(tensor({1, 1, 1, 3}, {1, 10, 100}))), {0, 0, 1, 10, 100});

  OpRun big =
      run("FractionalMaxPool2d", {{"kernel_size", 3}, {"output_size", 2}}, {Tensor::full({1, 1, 4, 4}, 1.0f)}, 5);
  // All ties: every window reports its first cell; without returned
  // indices they are kept for backward.
  Tensor grad = big.backward_ones();
  float total = 0;
  for (float g : floats(grad)) total += g;
  EXPECT_EQ(total, 4.0f);
}

TEST(FractionalMaxPool, OutputRatioTruncates) {
  auto shape = [](const std::string& op, json ratio, Shape in) {
    return infer(op, {{"kernel_size", 2}, {"output_ratio", ratio}}, {f32(in)})[0].shape;
  };
  EXPECT_EQ(shape("FractionalMaxPool2d", 0.5, {1, 1, 9, 11}), (Shape{1, 1, 4, 5}));
  EXPECT_EQ(shape("FractionalMaxPool2d", {0.5, 0.7}, {1, 1, 9, 11}), (Shape{1, 1, 4, 7}));
  EXPECT_EQ(shape("FractionalMaxPool3d", {0.5, 0.7, 0.3}, {1, 1, 9, 11, 13}), (Shape{1, 1, 4, 7, 3}));
  EXPECT_EQ(infer("FractionalMaxPool2d", {{"kernel_size", 1}, {"output_ratio", 0.3}}, {f32({1, 1, 10, 10})})[0].shape,
            (Shape{1, 1, 3, 3}));
}

TEST(FractionalMaxPool, EmptyOutputsAndBatches) {
  OpRun zero = run("FractionalMaxPool2d", {{"kernel_size", 2}, {"output_size", {0, 3}}, {"return_indices", true}},
                   {arange({1, 1, 5, 5})});
  EXPECT_EQ(zero.outputs[0].shape(), (Shape{1, 1, 0, 3}));
  EXPECT_EQ(zero.outputs[1].shape(), (Shape{1, 1, 0, 3}));
  EXPECT_EQ(floats(zero.backward(Tensor::empty({1, 1, 0, 3}))), std::vector<float>(25, 0.0f));
  // A ratio can round the output to nothing as well.
  EXPECT_EQ(infer("FractionalMaxPool2d", {{"kernel_size", 1}, {"output_ratio", 0.1}}, {f32({1, 1, 5, 5})})[0].shape,
            (Shape{1, 1, 0, 0}));

  OpRun none = run("FractionalMaxPool3d", {{"kernel_size", 2}, {"output_size", 3}}, {Tensor::empty({0, 1, 5, 5, 5})});
  EXPECT_EQ(none.outputs[0].shape(), (Shape{0, 1, 3, 3, 3}));
  EXPECT_EQ(none.backward(Tensor::empty({0, 1, 3, 3, 3})).shape(), (Shape{0, 1, 5, 5, 5}));
}

TEST(FractionalMaxPool, UnbatchedIsBatchedWithOne) {
  Tensor x = Tensor::empty({2, 6, 7});
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = std::sin(static_cast<float>(i));
  Tensor samples = tensor({1, 2, 2}, {0.1f, 0.8f, 0.6f, 0.3f});
  json attrs = {{"kernel_size", 2}, {"output_size", {3, 4}}, {"return_indices", true}};
  OpRun unbatched = run("FractionalMaxPool2d", attrs, {x, samples});
  OpRun batched = run("FractionalMaxPool2d", attrs, {x.reshaped({1, 2, 6, 7}), samples});
  EXPECT_EQ(unbatched.outputs[0].shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(ints(unbatched.outputs[1]), ints(batched.outputs[1]));
  // Samples with a larger batch than the input: the first rows are used.
  Tensor more = tensor({2, 2, 2}, {0.1f, 0.8f, 0.6f, 0.3f, 0.9f, 0.9f, 0.9f, 0.9f});
  EXPECT_EQ(ints(run("FractionalMaxPool2d", attrs, {x, more}).outputs[1]), ints(unbatched.outputs[1]));
}

TEST(FractionalMaxPool, DefaultSamplesAreTorchRandAfterManualSeed) {
  // torch.manual_seed(7); F.fractional_max_pool2d(x, 2, output_size=(4, 5), return_indices=True)
  // with x = sin(arange(2*3*9*11)).view(2, 3, 9, 11): the first 20 indices.
  Tensor x = Tensor::empty({2, 3, 9, 11});
  for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = static_cast<float>(std::sin(static_cast<double>(i)));
  json attrs = {{"kernel_size", 2}, {"output_size", {4, 5}}, {"return_indices", true}};
  OpRun r = run("FractionalMaxPool2d", attrs, {x}, 7);
  std::vector<int64_t> first(r.outputs[1].i64(), r.outputs[1].i64() + 20);
  EXPECT_EQ(first,
            (std::vector<int64_t>{1, 14, 15, 7, 20, 33, 25, 27, 39, 32, 66, 58, 71, 72, 64, 77, 90, 82, 83, 97}));
  // The same as giving torch.rand(2, 3, 2) explicitly.
  Tensor samples = Tensor::empty({2, 3, 2});
  Generator(7).uniform(samples.floats(), 0.0, 1.0);
  EXPECT_EQ(ints(run("FractionalMaxPool2d", attrs, {x, samples}).outputs[1]), ints(r.outputs[1]));
  // Another seed, other windows.
  EXPECT_NE(ints(run("FractionalMaxPool2d", attrs, {x}, 8).outputs[1]), ints(r.outputs[1]));
}

TEST(FractionalMaxPool, ConstructorErrors) {
  expect_error(
      [] {
        create("FractionalMaxPool2d", {{"kernel_size", 2}});
      },
      {"attrs.output_size", "FractionalMaxPool2d requires specifying either an output size, or a pooling ratio"});
  expect_error(
      [] {
        create("FractionalMaxPool3d", {{"kernel_size", 2}});
      },
      {"FractionalMaxPool3d requires specifying either an output size, or a pooling ratio"});
  expect_error(
      [] {
        create("FractionalMaxPool2d", {{"kernel_size", 2}, {"output_size", 3}, {"output_ratio", 0.5}});
      },
      {"only one of output_size and output_ratio may be specified"});
  expect_error(
      [] {
        create("FractionalMaxPool2d", {{"kernel_size", 2}, {"output_ratio", 1.0}});
      },
      {"attrs.output_ratio", "output_ratio must be between 0 and 1 (got 1.0)"});
  expect_error(
      [] {
        create("FractionalMaxPool2d", {{"kernel_size", 2}, {"output_ratio", {0.5, 0}}});
      },
      {"output_ratio must be between 0 and 1 (got [0.5,0])"});
  expect_error(
      [] {
        create("FractionalMaxPool3d", {{"kernel_size", 2}, {"output_ratio", {0.5, 0.5, 1.5}}});
      },
      {"output_ratio must be between 0 and 1"});
  expect_error(
      [] {
        create("FractionalMaxPool2d", {{"kernel_size", 0}, {"output_size", 3}});
      },
      {"attrs.kernel_size", "fractional_max_pool2d(): kernel size should be greater than zero, but got 0x0"});
  expect_error(
      [] {
        create("FractionalMaxPool3d", {{"kernel_size", {2, -1, 2}}, {"output_size", 3}});
      },
      {"kernel size should be greater than zero, but got 2x-1x2"});
  expect_error(
      [] {
        create("FractionalMaxPool2d", {{"kernel_size", 2}, {"output_size", {-1, 3}}});
      },
      {"output_size must not be negative"});
  EXPECT_EQ(registry().find("FractionalMaxPool1d"), nullptr);
}

TEST(FractionalMaxPool, ShapeErrors) {
  auto fmp = [](const std::string& op, json attrs, std::vector<TensorDesc> inputs) {
    return [=] { infer(op, attrs, inputs); };
  };
  json k2o3 = {{"kernel_size", 2}, {"output_size", 3}};
  expect_error(fmp("FractionalMaxPool2d", k2o3, {f32({5, 5})}),
               {"fractional_max_pool2d(): Expected 3D or 4D tensor, but got: [5, 5]"});
  expect_error(fmp("FractionalMaxPool3d", k2o3, {f32({1, 1, 1, 6, 7, 8})}),
               {"fractional_max_pool3d_out(): Expected 4D or 5D tensor, but got: [1, 1, 1, 6, 7, 8]"});
  expect_error(fmp("FractionalMaxPool2d", k2o3, {f32({1, 0, 5, 5})}),
               {"fractional_max_pool2d(): Expected input to have non-zero size for non-batch dimensions, but got "
                "[1, 0, 5, 5] with dimension 1 being empty."});
  expect_error(fmp("FractionalMaxPool3d", k2o3, {f32({1, 1, 0, 5, 5})}), {"with dimension 2 being empty"});

  // 2d: out + k - 1 <= in, height first.
  expect_error(fmp("FractionalMaxPool2d", {{"kernel_size", 3}, {"output_size", {4, 3}}}, {f32({1, 1, 5, 5})}),
               {"fractional_max_pool2d(): pool height 3 too large relative to input height 5"});
  expect_error(fmp("FractionalMaxPool2d", {{"kernel_size", 3}, {"output_size", {3, 4}}}, {f32({1, 1, 5, 5})}),
               {"fractional_max_pool2d(): pool width 3 too large relative to input width 5"});
  EXPECT_NO_THROW(infer("FractionalMaxPool2d", {{"kernel_size", 1}, {"output_size", {5, 6}}}, {f32({1, 1, 5, 6})}));
  // 3d: PyTorch's check is strict (out + k - 1 < in) and runs T, W, H.
  json k1_full = {{"kernel_size", 1}, {"output_size", {6, 7, 8}}};
  expect_error(fmp("FractionalMaxPool3d", k1_full, {f32({1, 1, 6, 7, 8})}),
               {"fractional_max_pool3d_out(): pool time 1 too large relative to input time 6"});
  expect_error(fmp("FractionalMaxPool3d", {{"kernel_size", 2}, {"output_size", {3, 6, 6}}}, {f32({1, 1, 5, 6, 7})}),
               {"pool width 2 too large relative to input width 7"});
  expect_error(fmp("FractionalMaxPool3d", {{"kernel_size", 3}, {"output_size", {2, 4, 2}}}, {f32({1, 1, 5, 6, 7})}),
               {"pool height 3 too large relative to input height 6"});
  EXPECT_NO_THROW(
      infer("FractionalMaxPool3d", {{"kernel_size", 1}, {"output_size", {5, 6, 7}}}, {f32({1, 1, 6, 7, 8})}));
}

TEST(FractionalMaxPool, SamplesAreChecked) {
  json attrs = {{"kernel_size", 2}, {"output_size", 3}};
  auto with = [&](const std::string& op, Shape in, TensorDesc samples) {
    return [=] { infer(op, attrs, {f32(in), samples}); };
  };
  expect_error(with("FractionalMaxPool2d", {1, 1, 5, 5}, {DType::Int64, {1, 1, 2}}),
               {"Expect _random_samples to have the same dtype as input (float32), but got int64"});
  expect_error(with("FractionalMaxPool2d", {1, 1, 5, 5}, f32({1, 2})),
               {"Expect _random_samples to have 3 dimensions, got 2"});
  expect_error(with("FractionalMaxPool2d", {2, 1, 5, 5}, f32({1, 1, 2})),
               {"Expect _random_samples.size(0) no less than input batch size (2)"});
  expect_error(with("FractionalMaxPool2d", {1, 3, 5, 5}, f32({1, 2, 2})),
               {"Expect _random_samples.size(1) equals to input channel size (3)"});
  expect_error(with("FractionalMaxPool3d", {1, 1, 5, 5, 5}, f32({1, 1, 2})),
               {"Expect _random_samples.size(2) equals to 3; got 2."});
  EXPECT_NO_THROW(with("FractionalMaxPool2d", {kDynamic, 1, 5, 5}, f32({kDynamic, 1, 2}))());

  // Values: [0, 1] is accepted (1.0 included: it provably keeps the windows
  // inside), anything else, NaN or inf is refused when the pass runs.
  Tensor x = arange({1, 2, 5, 5});
  for (float bad : {-0.1f, 1.5f, kNaN, kInf}) {
    Tensor samples = tensor({1, 2, 2}, {0.5f, 0.5f, 0.5f, bad});
    expect_error(
        [&] {
          run("FractionalMaxPool2d", attrs, {x, samples});
        },
        {"FractionalMaxPool2d: the random samples must lie in [0, 1], but _random_samples[0, 1, 1] is"});
  }
  EXPECT_NO_THROW(run("FractionalMaxPool2d", attrs, {x, tensor({1, 2, 2}, {0.0f, 1.0f, 0.999999f, 0.0f})}));
}

// --------------------------------------------------- through the graph

TEST(FractionalMaxPool, SamplesAreAnOptionalGraphInputWithoutGradient) {
  std::string text = R"({
    "seed": 3,
    "inputs": [{"name": "x", "shape": [null, 2, 7, 7]}, {"name": "u", "shape": [null, 2, 2]}],
    "nodes": [{"name": "pool", "op": "FractionalMaxPool2d", "inputs": ["x", "u"], "outputs": ["y"],
               "attrs": {"kernel_size": [2, 3], "output_size": [4, 3]}}],
    "outputs": ["y"]})";
  auto graph = std::make_shared<Graph>(parse_model(text, "m.json", "."));
  CompileOptions options;
  options.backward = true;
  CompiledGraph plan(graph, {{1, 2, 7, 7}, {1, 2, 2}}, options);
  Execution execution(plan);
  Tensor x = arange({1, 2, 7, 7});
  execution.forward({x, tensor({1, 2, 2}, {0.1f, 0.2f, 0.3f, 0.4f})});
  EXPECT_EQ(execution.output(0).shape(), (Shape{1, 2, 4, 3}));
  execution.backward({});
  EXPECT_TRUE(execution.grad(graph->find_value("x")).defined());
  EXPECT_FALSE(execution.grad(graph->find_value("u")).defined());

  // A bad sample is reported at the node.
  try {
    execution.forward({x, tensor({1, 2, 2}, {0.1f, 0.2f, 0.3f, 2.0f})});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().node, "pool");
    EXPECT_NE(std::string(e.what()).find("must lie in [0, 1]"), std::string::npos) << e.what();
  }
}

TEST(LPPool, ErrorsCarryTheJsonPath) {
  std::string text = R"({
    "inputs": [{"name": "x", "shape": [1, 1, 5]}],
    "nodes": [{"name": "lp", "op": "LPPool1d", "inputs": ["x"], "outputs": ["y"],
               "attrs": {"norm_type": 0, "kernel_size": 2}}],
    "outputs": ["y"]})";
  try {
    parse_model(text, "m.json", ".");
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nodes[0].attrs.norm_type"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mininn
