// oneDNN Conv2d against the naive kernel (double accumulation): random
// configurations (seeded) over groups, stride, dilation, padding (incl.
// 'same' and the four padding modes), bias, unbatched and empty inputs;
// forward and every gradient within float tolerance.
#include "test_onednn_harness.h"

#include <cstdio>

namespace mininn {
namespace {

using nlohmann::json;
using testing::make_op;
using testing::max_relative_error;
using testing::OpUnderTest;
using testing::run_op;
using testing::RunResult;

int pick(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

TEST(OneDnnConv, Conv2dMatchesNaive) {
  std::mt19937 rng(2024);
  static const char* modes[] = {"zeros", "zeros", "zeros", "reflect", "replicate", "circular"};
  int ran = 0, on_onednn = 0, skipped = 0;
  for (int i = 0; i < 300; ++i) {
    int groups = pick(rng, 0, 3) == 0 ? pick(rng, 2, 4) : 1;
    int in_channels = groups * pick(rng, 1, 5), out_channels = groups * pick(rng, 1, 5);
    json kernel = {pick(rng, 1, 5), pick(rng, 1, 5)};
    json stride = {pick(rng, 1, 3), pick(rng, 1, 3)};
    json dilation = {pick(rng, 1, 2), pick(rng, 1, 2)};
    json padding = pick(rng, 0, 4) == 0 ? json("same") : json{pick(rng, 0, 3), pick(rng, 0, 3)};
    if (padding.is_string()) stride = {1, 1};
    json attrs = {{"in_channels", in_channels},
                  {"out_channels", out_channels},
                  {"kernel_size", kernel},
                  {"stride", stride},
                  {"padding", padding},
                  {"dilation", dilation},
                  {"groups", groups},
                  {"bias", pick(rng, 0, 1) == 1},
                  {"padding_mode", modes[pick(rng, 0, std::size(modes) - 1)]}};
    Shape shape;
    int batch_kind = pick(rng, 0, 9);
    if (batch_kind > 0) shape.push_back(batch_kind == 1 ? 0 : pick(rng, 1, 3));
    shape.insert(shape.end(), {in_channels, pick(rng, 1, 12), pick(rng, 1, 12)});

    OpUnderTest t;
    try {
      t = make_op("Conv2d", attrs, shape);
    } catch (const Error&) {
      ++skipped;
      continue;
    }
    std::vector<Tensor> params;
    for (const ParamDecl& p : t.op->params()) params.push_back(testing::uniform_tensor(p.shape, rng));
    Tensor x = testing::uniform_tensor(shape, rng), gy = testing::uniform_tensor(t.outputs[0].shape, rng);
    RunResult naive = run_op(t, x, params, Backend::Naive, gy);
    RunResult onednn = run_op(t, x, params, Backend::OneDnn, gy);
    ++ran;
    on_onednn += onednn.dispatch.forward == "onednn";
    const std::string where = attrs.dump() + " on " + to_string(shape);
    if (x.numel() > 0) {
      EXPECT_EQ(onednn.dispatch.forward, "onednn") << where << ": " << onednn.dispatch.reason;
    }
    ASSERT_LE(max_relative_error(onednn.outputs[0], naive.outputs[0]), 1e-5) << where;
    ASSERT_LE(max_relative_error(onednn.grad_input, naive.grad_input), 1e-5) << where;
    for (size_t p = 0; p < params.size(); ++p)
      ASSERT_LE(max_relative_error(onednn.grad_params[p], naive.grad_params[p]), 1e-5) << where << " param " << p;
  }
  std::printf("[ onednn  ] Conv2d: %d configurations compared (%d ran on oneDNN, %d invalid skipped)\n", ran, on_onednn,
              skipped);
  EXPECT_GT(on_onednn, 200);
}

// Only some gradients wanted: the others stay untouched, the wanted ones
// are right (oneDNN computes weight and bias gradients together).
TEST(OneDnnConv, PartialGradients) {
  std::mt19937 rng(5);
  json attrs = {{"in_channels", 3}, {"out_channels", 4}, {"kernel_size", 3}, {"padding", 1}};
  OpUnderTest t = make_op("Conv2d", attrs, {2, 3, 6, 6});
  std::vector<Tensor> params = {testing::uniform_tensor({4, 3, 3, 3}, rng), testing::uniform_tensor({4}, rng)};
  Tensor x = testing::uniform_tensor({2, 3, 6, 6}, rng), gy = testing::uniform_tensor({2, 4, 6, 6}, rng);
  RunResult full = run_op(t, x, params, Backend::Naive, gy);

  KernelConfig config{{x.desc()}, t.outputs, {params[0].desc(), params[1].desc()}, Backend::OneDnn, false, true};
  auto kernel = t.op->make_kernel(config);
  ASSERT_EQ(kernel->dispatch.forward, "onednn");
  auto state = kernel->make_state();
  std::vector<Tensor> in = {x}, out = {Tensor::empty({2, 4, 6, 6})}, gys = {gy};
  kernel->forward({in, params, out, state.get()});
  for (int want = 0; want < 8; ++want) {
    std::vector<Tensor> gx = {want & 1 ? Tensor::empty(x.shape()) : Tensor()};
    std::vector<Tensor> gp = {want & 2 ? Tensor::empty({4, 3, 3, 3}) : Tensor(),
                              want & 4 ? Tensor::empty({4}) : Tensor()};
    kernel->backward({in, params, out, gys, gx, gp, state.get()});
    if (want & 1) {
      EXPECT_LE(max_relative_error(gx[0], full.grad_input), 1e-5);
    }
    if (want & 2) {
      EXPECT_LE(max_relative_error(gp[0], full.grad_params[0]), 1e-5);
    }
    if (want & 4) {
      EXPECT_LE(max_relative_error(gp[1], full.grad_params[1]), 1e-5);
    }
  }
}

// Compiled for inference, the oneDNN conv converts its weights only when they
// changed since the last forward: a change in place, down to one element
// becoming -0.0 or NaN, must be seen by the next forward.
TEST(OneDnnConv, InferenceSeesWeightsChangedInPlace) {
  std::mt19937 rng(8);
  const json attrs = {{"in_channels", 16}, {"out_channels", 32}, {"kernel_size", 3}, {"padding", 1}};
  OpUnderTest t = make_op("Conv2d", attrs, {2, 16, 7, 7});
  const Tensor input = testing::uniform_tensor({2, 16, 7, 7}, rng);
  std::vector<Tensor> params = {testing::uniform_tensor({32, 16, 3, 3}, rng), testing::uniform_tensor({32}, rng)};
  params[0].f32()[0] = 0.0f;
  KernelConfig config;
  config.inputs = {input.desc()};
  config.outputs = t.outputs;
  for (const Tensor& p : params) config.params.push_back(p.desc());
  config.backend = Backend::OneDnn;
  std::unique_ptr<Kernel> kernel = t.op->make_kernel(config);
  ASSERT_EQ(kernel->dispatch.forward, "onednn");
  std::unique_ptr<KernelState> state = kernel->make_state();
  auto forward = [&] {
    std::vector<Tensor> outputs = {Tensor::empty(t.outputs[0].shape)};
    kernel->forward({std::span(&input, 1), params, outputs, state.get()});
    return outputs[0];
  };
  // What a fresh kernel computes for the weights as they are now.
  auto fresh = [&] { return run_op(t, input, params, Backend::OneDnn, Tensor(), false).outputs[0]; };
  EXPECT_EQ(testing::first_bit_difference(forward(), fresh()), -1);
  EXPECT_EQ(testing::first_bit_difference(forward(), fresh()), -1);  // unchanged: the cached copy
  const std::vector<float> changes = {-0.0f, std::nanf(""), 0.5f};
  for (float value : changes) {
    params[0].f32()[0] = value;
    const Tensor got = forward(), want = fresh();
    EXPECT_EQ(testing::first_bit_difference(got, want), -1) << "weight[0] = " << value;
  }
  params[0].f32()[params[0].numel() - 1] += 1.0f;  // the last element too
  EXPECT_EQ(testing::first_bit_difference(forward(), fresh()), -1);
}

}  // namespace
}  // namespace mininn
