// oneDNN pooling kernels against the naive reference kernels: random
// configurations in 1d/2d/3d (seeded), bit-exact max values and indices,
// averages within float tolerance, backward too; plus PyTorch golden values
// for the cases oneDNN gets wrong on its own (NaN, -inf windows, ceil_mode
// with include-padding).
#include "ops/onednn/stats.h"
#include "test_onednn_harness.h"

#include <cstdio>
#include <limits>

namespace mininn {
namespace {

using nlohmann::json;
using testing::first_bit_difference;
using testing::make_op;
using testing::max_relative_error;
using testing::OpUnderTest;
using testing::run_op;
using testing::RunResult;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// What a random input looks like: each stresses one rule.
enum class Content { Integers, Uniform, MinusInf, NaN, AllMinusInf, Lowest };

Tensor make_input(const Shape& shape, Content content, std::mt19937& rng) {
  Tensor t = content == Content::Uniform ? testing::uniform_tensor(shape, rng) : testing::integer_tensor(shape, rng, 3);
  std::uniform_real_distribution<float> u(0, 1);
  for (float& v : t.floats()) {
    switch (content) {
      case Content::MinusInf:
        if (u(rng) < 0.6f) v = -kInf;
        break;
      case Content::NaN:
        if (u(rng) < 0.03f) v = kNaN;
        break;
      case Content::AllMinusInf:
        v = -kInf;
        break;
      case Content::Lowest:
        v = u(rng) < 0.5f ? -kInf : std::numeric_limits<float>::lowest();
        break;
      default:
        break;
    }
  }
  return t;
}

Content pick_content(std::mt19937& rng) {
  static const Content all[] = {Content::Integers, Content::Integers,    Content::Integers,
                                Content::Uniform,  Content::Uniform,     Content::MinusInf,
                                Content::NaN,      Content::AllMinusInf, Content::Lowest};
  return all[std::uniform_int_distribution<int>(0, std::size(all) - 1)(rng)];
}

int pick(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

// A random input shape of spatial rank `rank`: sometimes unbatched, rarely
// empty, channels often not a multiple of 16.
Shape random_shape(int rank, std::mt19937& rng, int max_extent) {
  static const int channels[] = {1, 3, 5, 16, 17, 20, 33};
  Shape shape;
  int kind = pick(rng, 0, 19);
  if (kind > 0) shape.push_back(kind == 1 ? 0 : pick(rng, 1, 3));  // kind 0: unbatched, 1: N=0
  shape.push_back(channels[pick(rng, 0, std::size(channels) - 1)]);
  for (int i = 0; i < rank; ++i) shape.push_back(pick(rng, 1, max_extent));
  return shape;
}

int max_extent(int rank) { return rank == 1 ? 24 : rank == 2 ? 12 : 7; }

json window_attrs(int rank, std::mt19937& rng, bool dilation) {
  json kernel = json::array(), stride = json::array(), padding = json::array(), dil = json::array();
  for (int i = 0; i < rank; ++i) {
    int k = pick(rng, 1, 4);
    kernel.push_back(k);
    stride.push_back(pick(rng, 1, 4));
    padding.push_back(pick(rng, 0, k / 2));
    dil.push_back(dilation && pick(rng, 0, 3) == 0 ? 2 : 1);
  }
  json attrs = {{"kernel_size", kernel}, {"stride", stride}, {"padding", padding}, {"ceil_mode", pick(rng, 0, 1) == 1}};
  if (dilation) attrs["dilation"] = dil;
  return attrs;
}

struct Tally {
  int ran = 0, on_onednn = 0, skipped = 0;
  void print(const char* what) const {
    std::printf("[ onednn  ] %s: %d configurations compared (%d ran on oneDNN, %d invalid skipped)\n", what, ran,
                on_onednn, skipped);
  }
};

// Compares the oneDNN backend with the naive one on one configuration.
// `exact`: values must be bit-identical (max pools), else within tolerance.
void compare(const std::string& name, int rank, const json& attrs, const Shape& shape, Content content,
             std::mt19937& rng, bool exact, Tally& tally) {
  OpUnderTest t;
  try {
    t = make_op(name, attrs, shape);
  } catch (const Error&) {
    ++tally.skipped;
    return;
  }
  const std::string where = name + " " + attrs.dump() + " on " + to_string(shape);
  Tensor x = make_input(shape, content, rng);
  Tensor gy = testing::integer_tensor(t.outputs[0].shape, rng, 4);
  RunResult naive = run_op(t, x, {}, Backend::Naive, gy);
  RunResult onednn = run_op(t, x, {}, Backend::OneDnn, gy);
  ++tally.ran;
  if (onednn.dispatch.forward == "onednn") ++tally.on_onednn;
  const bool empty = shape.size() == static_cast<size_t>(rank) + 2 && shape[0] == 0;
  if (!empty && name.rfind("Adaptive", 0) != 0) {
    EXPECT_EQ(onednn.dispatch.forward, "onednn") << where << " " << onednn.dispatch.reason;
  }

  for (size_t i = 0; i < naive.outputs.size(); ++i) {
    if (exact || naive.outputs[i].dtype() == DType::Int64) {
      int64_t at = first_bit_difference(onednn.outputs[i], naive.outputs[i]);
      ASSERT_EQ(at, -1) << where << " output " << i << " differs at " << at << ": onednn "
                        << (naive.outputs[i].dtype() == DType::Int64 ? std::to_string(onednn.outputs[i].i64()[at])
                                                                     : std::to_string(onednn.outputs[i].f32()[at]))
                        << " naive "
                        << (naive.outputs[i].dtype() == DType::Int64 ? std::to_string(naive.outputs[i].i64()[at])
                                                                     : std::to_string(naive.outputs[i].f32()[at]));
    } else {
      ASSERT_LE(max_relative_error(onednn.outputs[i], naive.outputs[i]), 2e-6) << where;
    }
  }
  // Max backward with integer gradients sums exactly in any order.
  if (exact) {
    int64_t at = first_bit_difference(onednn.grad_input, naive.grad_input);
    ASSERT_EQ(at, -1) << where << " grad differs at " << at << ": " << onednn.grad_input.f32()[at] << " vs "
                      << naive.grad_input.f32()[at];
  } else {
    ASSERT_LE(max_relative_error(onednn.grad_input, naive.grad_input), 2e-6) << where;
  }
}

TEST(OneDnnPool, MaxPoolMatchesNaiveBitExact) {
  std::mt19937 rng(1234);
  Tally tally;
  for (int i = 0; i < 900; ++i) {
    int rank = 1 + i % 3;
    json attrs = window_attrs(rank, rng, true);
    attrs["return_indices"] = pick(rng, 0, 3) != 0;
    compare(fmt::format("MaxPool{}d", rank), rank, attrs, random_shape(rank, rng, max_extent(rank)), pick_content(rng),
            rng, true, tally);
    if (HasFatalFailure()) return;
  }
  tally.print("MaxPool1d/2d/3d");
  EXPECT_GT(tally.on_onednn, 600);
}

TEST(OneDnnPool, AvgPoolMatchesNaive) {
  std::mt19937 rng(5678);
  Tally tally;
  for (int i = 0; i < 900; ++i) {
    int rank = 1 + i % 3;
    json attrs = window_attrs(rank, rng, false);
    attrs["count_include_pad"] = pick(rng, 0, 1) == 1;
    Content content = pick(rng, 0, 4) == 0 ? Content::MinusInf : Content::Uniform;
    compare(fmt::format("AvgPool{}d", rank), rank, attrs, random_shape(rank, rng, max_extent(rank)), content, rng,
            false, tally);
    if (HasFatalFailure()) return;
  }
  tally.print("AvgPool1d/2d/3d");
  EXPECT_GT(tally.on_onednn, 500);
}

// Random output sizes: divisible ones (oneDNN) and others (naive fallback).
json adaptive_attrs(const Shape& shape, int rank, std::mt19937& rng) {
  json sizes = json::array();
  for (int i = 0; i < rank; ++i) {
    int64_t in = shape[shape.size() - rank + i];
    std::vector<int64_t> divisors;
    for (int64_t d = 1; d <= in; ++d)
      if (in % d == 0) divisors.push_back(d);
    bool divisible = pick(rng, 0, 3) != 0;
    sizes.push_back(divisible ? divisors[pick(rng, 0, divisors.size() - 1)] : pick(rng, 1, in + 2));
  }
  return {{"output_size", sizes}};
}

TEST(OneDnnPool, AdaptivePoolsMatchNaive) {
  std::mt19937 rng(91011);
  Tally max_tally, avg_tally;
  for (int i = 0; i < 600; ++i) {
    int rank = 1 + i % 3;
    Shape shape = random_shape(rank, rng, max_extent(rank) + 4);
    json attrs = adaptive_attrs(shape, rank, rng);
    if (i % 2) {
      attrs["return_indices"] = pick(rng, 0, 1) == 1;
      compare(fmt::format("AdaptiveMaxPool{}d", rank), rank, attrs, shape, pick_content(rng), rng, true, max_tally);
    } else {
      compare(fmt::format("AdaptiveAvgPool{}d", rank), rank, attrs, shape, Content::Uniform, rng, false, avg_tally);
    }
    if (HasFatalFailure()) return;
  }
  max_tally.print("AdaptiveMaxPool1d/2d/3d");
  avg_tally.print("AdaptiveAvgPool1d/2d/3d");
  EXPECT_GT(max_tally.on_onednn, 100);
  EXPECT_GT(avg_tally.on_onednn, 100);
}

// Runs on the oneDNN backend and checks the kernel really is oneDNN's.
RunResult onednn_run(const std::string& name, const json& attrs, const Tensor& x, const Tensor& gy = Tensor()) {
  OpUnderTest t = make_op(name, attrs, x.shape());
  RunResult r = run_op(t, x, {}, Backend::OneDnn, gy);
  EXPECT_EQ(r.dispatch.forward, "onednn") << r.dispatch.reason;
  return r;
}

Tensor tensor_of(const Shape& shape, std::vector<float> values) {
  Tensor t = Tensor::empty(shape);
  std::copy(values.begin(), values.end(), t.f32());
  return t;
}

std::vector<float> floats(const Tensor& t) { return {t.f32(), t.f32() + t.numel()}; }
std::vector<int64_t> ints(const Tensor& t) { return {t.i64(), t.i64() + t.numel()}; }

// PyTorch 1.13: a 3x3 all -inf input, k=3 s=1 p=1 -> -inf everywhere, the
// index of the first in-bounds tap (oneDNN alone gives -FLT_MAX and taps
// that point into the padding).
TEST(OneDnnPool, AllMinusInfWindowsGivePyTorchValuesAndIndices) {
  Tensor x = Tensor::full({1, 1, 3, 3}, -kInf);
  RunResult r = onednn_run("MaxPool2d", {{"kernel_size", 3}, {"stride", 1}, {"padding", 1}, {"return_indices", true}},
                           x, Tensor::full({1, 1, 3, 3}, 1.0f));
  for (float v : floats(r.outputs[0])) EXPECT_EQ(v, -kInf);
  EXPECT_EQ(ints(r.outputs[1]), (std::vector<int64_t>{0, 0, 1, 0, 0, 1, 3, 3, 4}));
  EXPECT_EQ(floats(r.grad_input), (std::vector<float>{4, 2, 0, 2, 1, 0, 0, 0, 0}));
}

// [1, nan, 5, nan, 2], k=5: NaN wins, and the last NaN gives the index.
TEST(OneDnnPool, NaNPropagatesWithTheLastNaNIndex) {
  Tensor x = tensor_of({1, 1, 5}, {1, kNaN, 5, kNaN, 2});
  RunResult r = onednn_run("MaxPool1d", {{"kernel_size", 5}, {"return_indices", true}}, x, Tensor::full({1, 1, 1}, 1));
  EXPECT_TRUE(std::isnan(r.outputs[0].f32()[0]));
  EXPECT_EQ(r.outputs[1].i64()[0], 3);
  EXPECT_EQ(floats(r.grad_input), (std::vector<float>{0, 0, 0, 1, 0}));
}

// One state, three runs: NaN (naive path), clean (oneDNN), NaN again; each
// backward must use what its own forward left.
TEST(OneDnnPool, NaNFallbackIsPerCall) {
  OpUnderTest t = make_op("MaxPool2d", {{"kernel_size", 2}}, {1, 2, 4, 4});
  KernelConfig config{{TensorDesc{DType::Float32, {1, 2, 4, 4}}}, t.outputs, {}, Backend::OneDnn, false, true};
  auto kernel = t.op->make_kernel(config);
  auto state = kernel->make_state();
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    Tensor x = testing::uniform_tensor({1, 2, 4, 4}, rng);
    if (round != 1) x.f32()[5] = kNaN;
    Tensor y = Tensor::empty({1, 2, 2, 2}), gy = Tensor::full({1, 2, 2, 2}, 1), gx = Tensor::empty({1, 2, 4, 4});
    std::vector<Tensor> in = {x}, out = {y}, gys = {gy}, gxs = {gx};
    kernel->forward({in, {}, out, state.get()});
    kernel->backward({in, {}, out, gys, gxs, {}, state.get()});
    RunResult naive = run_op(t, x, {}, Backend::Naive, gy);
    EXPECT_EQ(first_bit_difference(y, naive.outputs[0]), -1) << "round " << round;
    EXPECT_EQ(first_bit_difference(gx, naive.grad_input), -1) << "round " << round;
  }
}

// Golden values of PyTorch 1.13 (spec §3, §4, §11).
TEST(OneDnnPool, PyTorchCornerCases) {
  // MaxPool2d(2,2,1,2,ceil_mode=True) on [[-1,-2],[-3,-4]]: all -4, indices all 3.
  RunResult r = onednn_run("MaxPool2d",
                           {{"kernel_size", 2},
                            {"stride", 2},
                            {"padding", 1},
                            {"dilation", 2},
                            {"ceil_mode", true},
                            {"return_indices", true}},
                           tensor_of({1, 1, 2, 2}, {-1, -2, -3, -4}));
  EXPECT_EQ(floats(r.outputs[0]), (std::vector<float>{-4, -4, -4, -4}));
  EXPECT_EQ(ints(r.outputs[1]), (std::vector<int64_t>{3, 3, 3, 3}));
  // max_pool1d([5,4,3,2,1], 2, 2, ceil_mode=True) -> [5,3,1], idx [0,2,4].
  r = onednn_run("MaxPool1d", {{"kernel_size", 2}, {"stride", 2}, {"ceil_mode", true}, {"return_indices", true}},
                 tensor_of({1, 1, 5}, {5, 4, 3, 2, 1}));
  EXPECT_EQ(floats(r.outputs[0]), (std::vector<float>{5, 3, 1}));
  EXPECT_EQ(ints(r.outputs[1]), (std::vector<int64_t>{0, 2, 4}));
  // avg_pool2d(arange(49).view(7,7), 2, 3, ceil_mode=True): the overhang is
  // not counted (oneDNN's include-padding alone gives 4.75 for 9.5).
  Tensor x = Tensor::empty({1, 1, 7, 7});
  for (int i = 0; i < 49; ++i) x.f32()[i] = float(i);
  r = onednn_run("AvgPool2d", {{"kernel_size", 2}, {"stride", 3}, {"ceil_mode", true}}, x);
  EXPECT_EQ(floats(r.outputs[0]), (std::vector<float>{4, 7, 9.5, 25, 28, 30.5, 42.5, 45.5, 48}));
  // avg_pool2d(ones 6x6, 3, 2, 1, ceil_mode=True): row 0 and corner (3,3).
  r = onednn_run("AvgPool2d", {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}, {"ceil_mode", true}},
                 Tensor::full({1, 1, 6, 6}, 1));
  EXPECT_FLOAT_EQ(r.outputs[0].f32()[0], 4.0f / 9);
  EXPECT_FLOAT_EQ(r.outputs[0].f32()[1], 6.0f / 9);
  EXPECT_FLOAT_EQ(r.outputs[0].f32()[3], 3.0f / 9);
  EXPECT_FLOAT_EQ(r.outputs[0].f32()[15], 0.25f);
  // AvgPool1d(3,2,1,ceil_mode=True) on [1..6] -> [1,3,5,3].
  r = onednn_run("AvgPool1d", {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}, {"ceil_mode", true}},
                 tensor_of({1, 1, 6}, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(floats(r.outputs[0]), (std::vector<float>{1, 3, 5, 3}));
  // adaptive_max_pool2d(arange(16) 4x4, 2) with indices.
  x = Tensor::empty({1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) x.f32()[i] = float(i);
  r = onednn_run("AdaptiveMaxPool2d", {{"output_size", 2}, {"return_indices", true}}, x);
  EXPECT_EQ(floats(r.outputs[0]), (std::vector<float>{5, 7, 13, 15}));
  EXPECT_EQ(ints(r.outputs[1]), (std::vector<int64_t>{5, 7, 13, 15}));
}

// Ties: the first maximum in scan order, also across -0.0 and 0.0.
TEST(OneDnnPool, TiesPickTheFirstMaximum) {
  RunResult r =
      onednn_run("MaxPool1d", {{"kernel_size", 5}, {"return_indices", true}}, tensor_of({1, 1, 5}, {1, 3, 3, 2, 3}));
  EXPECT_EQ(r.outputs[1].i64()[0], 1);
  r = onednn_run("MaxPool2d", {{"kernel_size", 2}, {"return_indices", true}},
                 tensor_of({1, 1, 2, 2}, {-0.0f, 0, 0, -0.0f}));
  EXPECT_EQ(r.outputs[1].i64()[0], 0);
  EXPECT_TRUE(std::signbit(r.outputs[0].f32()[0]));
}

// Large inputs run in chunks of planes, one per thread (the NaN scan, the
// pooling and the fix-ups on cache-resident data): NaN in one chunk only,
// -inf windows, a short last chunk, with and without indices and backward.
TEST(OneDnnPool, ChunkedMaxPoolMatchesNaive) {
  std::mt19937 rng(11);
  const Shape shapes[] = {{4, 40, 64, 64}, {2, 65, 64, 64}, {3, 50, 8, 24, 24}};
  int ran = 0;
  for (const Shape& shape : shapes) {
    const int rank = static_cast<int>(shape.size()) - 2;
    for (int variant = 0; variant < 8; ++variant) {
      json attrs = {{"kernel_size", 3},
                    {"stride", 2},
                    {"padding", 1},
                    {"ceil_mode", variant % 2 == 1},
                    {"return_indices", variant / 2 % 2 == 1}};
      OpUnderTest t = make_op(fmt::format("MaxPool{}d", rank), attrs, shape);
      Tensor x = testing::integer_tensor(shape, rng, 3);
      const int64_t plane = x.numel() / (shape[0] * shape[1]);
      if (variant / 4 == 1) x.f32()[37 * plane + 5] = kNaN;                  // one plane of one chunk
      for (int64_t i = 0; i < plane; ++i) x.f32()[100 * plane + i] = -kInf;  // a whole plane
      Tensor gy = testing::integer_tensor(t.outputs[0].shape, rng);
      for (bool backward : {false, true}) {
        RunResult a = run_op(t, x, {}, Backend::OneDnn, gy, backward);
        RunResult b = run_op(t, x, {}, Backend::Naive, gy, backward);
        const std::string where = attrs.dump() + " on " + to_string(shape);
        ASSERT_EQ(a.dispatch.forward, "onednn") << where;
        for (size_t i = 0; i < a.outputs.size(); ++i)
          ASSERT_EQ(first_bit_difference(a.outputs[i], b.outputs[i]), -1) << where << " output " << i;
        if (backward) {
          ASSERT_EQ(first_bit_difference(a.grad_input, b.grad_input), -1) << where;
        }
        ++ran;
      }
    }
  }
  std::printf("[ onednn  ] chunked MaxPool: %d configurations compared\n", ran);
}

// A kernel volume above 255 makes oneDNN's workspace s32 instead of u8.
TEST(OneDnnPool, LargeKernelUsesWideWorkspace) {
  std::mt19937 rng(3);
  Tensor x = testing::integer_tensor({2, 3, 20, 20}, rng, 50);
  json attrs = {{"kernel_size", 17}, {"stride", 3}, {"return_indices", true}};
  OpUnderTest t = make_op("MaxPool2d", attrs, x.shape());
  Tensor gy = testing::integer_tensor(t.outputs[0].shape, rng);
  RunResult a = run_op(t, x, {}, Backend::OneDnn, gy), b = run_op(t, x, {}, Backend::Naive, gy);
  EXPECT_EQ(a.dispatch.forward, "onednn");
  EXPECT_EQ(first_bit_difference(a.outputs[0], b.outputs[0]), -1);
  EXPECT_EQ(first_bit_difference(a.outputs[1], b.outputs[1]), -1);
  EXPECT_EQ(first_bit_difference(a.grad_input, b.grad_input), -1);
}

}  // namespace
}  // namespace mininn
