// Finite-difference checks of every op's backward (gradcheck.h), with the
// naive kernels and with what Backend::Auto picks (oneDNN where it runs).
#include "gradcheck.h"

#include <gtest/gtest.h>

namespace mininn::testing {
namespace {

using nlohmann::json;

GradInput normal(Shape shape) { return {.shape = std::move(shape)}; }
GradInput separated(Shape shape) { return {.shape = std::move(shape), .draw = Draw::Separated}; }

// Runs `check` with each backend and requires it to pass with gradients that
// are clearly not all zero (comparing zeros with zeros would prove nothing).
void expect_gradients(GradCheck check) {
  for (Backend backend : {Backend::Naive, Backend::Auto}) {
    check.backend = backend;
    GradCheckReport report = run_gradcheck(check);
    std::string what = fmt::format("{} {} [{}]: {}", check.op, check.attrs.dump(), backend_name(backend), report.summary());
    EXPECT_TRUE(report.ok()) << what;
    EXPECT_GT(report.max_abs_gradient, 0.05) << what;
  }
}

// ---------------------------------------------------------------- Conv2d

TEST(GradCheckConv2d, InputWeightAndBiasInEveryPaddingMode) {
  for (const char* mode : {"zeros", "reflect", "replicate", "circular"}) {
    expect_gradients({.op = "Conv2d",
                      .attrs = {{"in_channels", 2}, {"out_channels", 3}, {"kernel_size", 3}, {"padding", {1, 2}},
                                {"padding_mode", mode}},
                      .inputs = {normal({2, 2, 4, 5})}});
  }
}

TEST(GradCheckConv2d, SamePaddingPutsTheOddCellAfter) {
  for (const char* mode : {"zeros", "reflect", "circular"}) {
    expect_gradients({.op = "Conv2d",
                      .attrs = {{"in_channels", 2}, {"out_channels", 2}, {"kernel_size", {4, 2}}, {"padding", "same"},
                                {"dilation", {1, 3}}, {"padding_mode", mode}},
                      .inputs = {normal({1, 2, 5, 7})}});
  }
}

TEST(GradCheckConv2d, StrideDilationAndSkippedRows) {
  expect_gradients({.op = "Conv2d",
                    .attrs = {{"in_channels", 2}, {"out_channels", 2}, {"kernel_size", {3, 2}}, {"stride", {2, 1}},
                              {"dilation", {1, 2}}, {"padding", 1}},
                    .inputs = {normal({1, 2, 7, 6})}});
  // Stride 3 over 7 rows with a 2x2 kernel never reaches the last row.
  expect_gradients({.op = "Conv2d",
                    .attrs = {{"in_channels", 1}, {"out_channels", 2}, {"kernel_size", 2}, {"stride", 3}},
                    .inputs = {normal({1, 1, 7, 8})}});
}

TEST(GradCheckConv2d, GroupsAndDepthwise) {
  expect_gradients({.op = "Conv2d",
                    .attrs = {{"in_channels", 4}, {"out_channels", 6}, {"kernel_size", {2, 3}}, {"groups", 2}},
                    .inputs = {normal({2, 4, 4, 5})}});
  expect_gradients({.op = "Conv2d",
                    .attrs = {{"in_channels", 3}, {"out_channels", 3}, {"kernel_size", 3}, {"groups", 3}, {"padding", 1},
                              {"padding_mode", "replicate"}},
                    .inputs = {normal({1, 3, 5, 5})}});
}

TEST(GradCheckConv2d, UnbatchedWithoutBias) {
  expect_gradients({.op = "Conv2d",
                    .attrs = {{"in_channels", 3}, {"out_channels", 2}, {"kernel_size", 3}, {"bias", false}},
                    .inputs = {normal({3, 5, 5})}});
}

// --------------------------------------------------------------- MaxPool

TEST(GradCheckMaxPool, PaddedOverlappingWindowsInEveryRank) {
  for (int rank = 1; rank <= 3; ++rank) {
    Shape shape = {2, 2};
    for (int d = 0; d < rank; ++d) shape.push_back(rank == 3 ? 4 : 6);
    std::string op = fmt::format("MaxPool{}d", rank);
    // Stride 1 with kernel 3: windows overlap, so gradients accumulate.
    expect_gradients({.op = op, .attrs = {{"kernel_size", 3}, {"stride", 1}, {"padding", 1}}, .inputs = {separated(shape)}});
    expect_gradients({.op = op,
                      .attrs = {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}, {"return_indices", true}},
                      .inputs = {separated(shape)}});
  }
}

TEST(GradCheckMaxPool, DilationAndCeilMode) {
  expect_gradients({.op = "MaxPool2d",
                    .attrs = {{"kernel_size", 2}, {"stride", 2}, {"dilation", 2}, {"padding", 1}, {"ceil_mode", true}},
                    .inputs = {separated({1, 2, 7, 6})}});
  expect_gradients({.op = "MaxPool1d",
                    .attrs = {{"kernel_size", 3}, {"stride", 3}, {"dilation", 2}, {"ceil_mode", true}},
                    .inputs = {separated({2, 11})}});
  expect_gradients({.op = "MaxPool3d",
                    .attrs = {{"kernel_size", {2, 1, 3}}, {"stride", {1, 2, 2}}, {"ceil_mode", true}},
                    .inputs = {separated({1, 1, 3, 5, 6})}});
}

// --------------------------------------------------------------- AvgPool

TEST(GradCheckAvgPool, DivisorsWithPaddingAndCeilInEveryRank) {
  for (int rank = 1; rank <= 3; ++rank) {
    Shape shape = {2, 2};
    for (int d = 0; d < rank; ++d) shape.push_back(rank == 3 ? 5 : 7);
    std::string op = fmt::format("AvgPool{}d", rank);
    for (bool count_include_pad : {true, false}) {
      // Ceil mode over 7 (or 5) with stride 2 leaves a last window hanging past the padding.
      expect_gradients({.op = op,
                        .attrs = {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}, {"ceil_mode", true},
                                  {"count_include_pad", count_include_pad}},
                        .inputs = {normal(shape)}});
    }
    expect_gradients({.op = op, .attrs = {{"kernel_size", 2}, {"stride", 1}}, .inputs = {normal(shape)}});
  }
}

TEST(GradCheckAvgPool, DivisorOverride) {
  for (int divisor : {1, 4, -3}) {
    expect_gradients({.op = "AvgPool2d",
                      .attrs = {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}, {"divisor_override", divisor}},
                      .inputs = {normal({1, 2, 6, 5})}});
    expect_gradients({.op = "AvgPool3d",
                      .attrs = {{"kernel_size", 2}, {"padding", 1}, {"divisor_override", divisor}},
                      .inputs = {normal({1, 3, 4, 3})}});
  }
}

// -------------------------------------------------------------- Adaptive

TEST(GradCheckAdaptivePool, OverlappingAndUpsamplingWindowsInEveryRank) {
  // 5 -> 3 overlaps, 3 -> 5 repeats cells, null keeps the size.
  struct Config {
    int rank;
    Shape shape;
    json size;
  };
  // 17 planes: a group of 16 computed in one vector, and one more.
  const std::vector<Config> configs = {{1, {2, 2, 5}, 3},          {1, {2, 3}, 5},
                                       {2, {1, 2, 5, 3}, {3, 5}},   {2, {2, 4, 7}, {3, nullptr}},
                                       {3, {1, 2, 5, 3, 4}, {3, 2, nullptr}}, {2, {1, 17, 3, 4}, {2, 3}}};
  for (const Config& c : configs) {
    expect_gradients({.op = fmt::format("AdaptiveAvgPool{}d", c.rank), .attrs = {{"output_size", c.size}}, .inputs = {normal(c.shape)}});
    expect_gradients({.op = fmt::format("AdaptiveMaxPool{}d", c.rank),
                      .attrs = {{"output_size", c.size}, {"return_indices", true}},
                      .inputs = {separated(c.shape)}});
  }
}

// ------------------------------------------------------------- MaxUnpool

// Indices into planes of `out` spatial size, one per window of `kernel`
// (stride = kernel): unique, as MaxPool with stride >= kernel makes them.
Tensor window_indices(const Shape& pooled, const Shape& kernel, const Shape& out) {
  const size_t rank = kernel.size();
  Tensor t = Tensor::empty(pooled, DType::Int64);
  Shape spatial(pooled.end() - static_cast<std::ptrdiff_t>(rank), pooled.end());
  int64_t plane = 1;
  for (int64_t s : spatial) plane *= s;
  for (int64_t i = 0; i < t.numel(); ++i) {
    int64_t rest = i % plane, flat = 0, stride = 1;
    std::vector<int64_t> position(rank);
    for (size_t d = rank; d-- > 0;) {
      position[d] = rest % spatial[d];
      rest /= spatial[d];
    }
    for (size_t d = rank; d-- > 0;) {
      int64_t offset = (i * 7 + static_cast<int64_t>(d) * 3) % kernel[d];  // a fixed pseudo-random cell of the window
      flat += (position[d] * kernel[d] + offset) * stride;
      stride *= out[d];
    }
    t.i64()[i] = flat;
  }
  return t;
}

TEST(GradCheckMaxUnpool, GatherInEveryRank) {
  struct Config {
    int rank;
    Shape pooled, kernel, out;
    json output_size;
  };
  const std::vector<Config> configs = {
      {1, {2, 3, 4}, {2}, {8}, nullptr},
      {1, {3, 5}, {3}, {16}, {16}},
      {2, {2, 2, 3, 2}, {2, 2}, {6, 4}, nullptr},
      {2, {1, 2, 2, 2}, {2, 2}, {5, 5}, {5, 5}},
      {3, {1, 2, 2, 2, 3}, {2, 1, 2}, {4, 2, 6}, nullptr},
  };
  for (const Config& c : configs) {
    json attrs = {{"kernel_size", c.kernel}};
    if (!c.output_size.is_null()) attrs["output_size"] = c.output_size;
    expect_gradients({.op = fmt::format("MaxUnpool{}d", c.rank),
                      .attrs = attrs,
                      .inputs = {normal(c.pooled), {.shape = c.pooled, .value = window_indices(c.pooled, c.kernel, c.out)}}});
  }
}

// ------------------------------------------------------- the harness itself

GradCheck avg_pool_check() {
  return {.op = "AvgPool2d", .attrs = {{"kernel_size", 2}, {"stride", 1}}, .inputs = {normal({1, 1, 4, 4})}};
}

TEST(GradCheckHarness, PassesACorrectGradient) {
  GradCheckReport report = run_gradcheck(avg_pool_check());
  EXPECT_TRUE(report.ok()) << report.summary();
  EXPECT_EQ(report.compared, 16);
  EXPECT_LT(report.max_error, 1e-4) << "the noise estimate in gradcheck.h no longer holds";
}

TEST(GradCheckHarness, CatchesOneWrongElement) {
  GradCheck check = avg_pool_check();
  check.tamper = [](const std::string&, Tensor& g) { g.f32()[5] += 0.01f; };
  GradCheckReport report = run_gradcheck(check);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.mismatches, 1) << report.summary();
  EXPECT_NE(report.first_mismatch.find("[0, 0, 1, 1]"), std::string::npos) << report.first_mismatch;
}

TEST(GradCheckHarness, CatchesAGradientSentToTheWrongCell) {
  GradCheck check{.op = "MaxPool2d", .attrs = {{"kernel_size", 2}}, .inputs = {separated({1, 1, 4, 4})}};
  check.tamper = [](const std::string&, Tensor& g) {
    float* v = g.f32();
    for (int i = 0; i < 16; ++i)
      if (v[i] != 0) std::swap(v[i], v[i ^ 1]);  // to the neighbour in the same window
  };
  EXPECT_GT(run_gradcheck(check).mismatches, 0);
}

TEST(GradCheckHarness, CatchesAWrongDivisor) {
  GradCheck check{.op = "AvgPool2d", .attrs = {{"kernel_size", 3}}, .inputs = {normal({1, 2, 6, 6})}};
  check.tamper = [](const std::string&, Tensor& g) {
    for (float& v : g.floats()) v *= 9.0f / 8.0f;
  };
  EXPECT_GT(run_gradcheck(check).mismatches, 0);
}

TEST(GradCheckHarness, ChecksParameterGradients) {
  GradCheck check{.op = "Conv2d",
                  .attrs = {{"in_channels", 1}, {"out_channels", 2}, {"kernel_size", 2}},
                  .inputs = {normal({1, 1, 3, 3})}};
  GradCheckReport correct = run_gradcheck(check);
  EXPECT_TRUE(correct.ok()) << correct.summary();
  EXPECT_EQ(correct.compared, 9 + 8 + 2);  // input, weight, bias
  check.tamper = [](const std::string& name, Tensor& g) {
    if (name == "node.bias") g.f32()[1] += 0.05f;
  };
  GradCheckReport tampered = run_gradcheck(check);
  EXPECT_EQ(tampered.mismatches, 1) << tampered.summary();
  EXPECT_NE(tampered.first_mismatch.find("node.bias"), std::string::npos) << tampered.first_mismatch;
}

TEST(GradCheckHarness, NothingComparedIsNotAPass) {
  GradCheck check{.op = "AvgPool2d", .attrs = {{"kernel_size", 2}}, .inputs = {normal({0, 1, 4, 4})}};
  EXPECT_FALSE(run_gradcheck(check).ok());
}

}  // namespace
}  // namespace mininn::testing
