// Finite-difference checks (gradcheck.h) of LPPool's and FractionalMaxPool's
// backward: partial ceil windows, overlapping windows, every rank, batched
// and unbatched, given and seed-drawn samples.
#include "gradcheck.h"

#include <gtest/gtest.h>

namespace mininn::testing {
namespace {

using nlohmann::json;

// Built field by field: designated initializers that leave fields to their
// defaults trip GCC 12's -Wmissing-field-initializers.
GradInput input(Shape shape, Draw draw) {
  GradInput in;
  in.shape = std::move(shape);
  in.draw = draw;
  return in;
}
GradInput normal(Shape shape) { return input(std::move(shape), Draw::Normal); }
GradInput positive(Shape shape) { return input(std::move(shape), Draw::Positive); }
GradInput separated(Shape shape) { return input(std::move(shape), Draw::Separated); }

// The samples input: given values, no gradient of its own.
GradInput samples(Shape shape, float value) {
  GradInput in;
  in.value = Tensor::full(shape, value);
  in.shape = std::move(shape);
  in.check = false;
  return in;
}

void expect_gradients(std::string op, json attrs, std::vector<GradInput> inputs) {
  GradCheck check;
  check.op = std::move(op);
  check.attrs = std::move(attrs);
  check.inputs = std::move(inputs);
  GradCheckReport report = run_gradcheck(check);
  std::string what = fmt::format("{} {}: {}", check.op, check.attrs.dump(), report.summary());
  EXPECT_TRUE(report.ok()) << what;
  EXPECT_GT(report.max_abs_gradient, 0.05) << what;
}

// ---------------------------------------------------------------- LPPool

TEST(GradCheckLPPool, EvenPOnSignedInputWithPartialCeilWindows) {
  expect_gradients("LPPool1d", {{"norm_type", 2}, {"kernel_size", 3}, {"stride", 2}, {"ceil_mode", true}},
                   {normal({2, 3, 8})});
  expect_gradients("LPPool2d", {{"norm_type", 4}, {"kernel_size", 2}, {"stride", 1}},
                   {normal({2, 5, 4})});  // unbatched
}

TEST(GradCheckLPPool, POneIsASignedSum) {
  expect_gradients("LPPool2d", {{"norm_type", 1}, {"kernel_size", {2, 3}}, {"stride", 1}}, {normal({1, 2, 4, 5})});
}

TEST(GradCheckLPPool, FractionalAndOddPOnPositiveInput) {
  for (double p : {1.5, 2.5, 3.0, 0.5}) {
    expect_gradients("LPPool2d", {{"norm_type", p}, {"kernel_size", {2, 3}}, {"stride", {1, 2}}, {"ceil_mode", true}},
                     {positive({2, 2, 5, 7})});
  }
}

TEST(GradCheckLPPool, ThreeD) {
  expect_gradients("LPPool3d", {{"norm_type", 3}, {"kernel_size", 2}, {"stride", {1, 2, 2}}, {"ceil_mode", true}},
                   {positive({1, 2, 3, 5, 4})});
  expect_gradients("LPPool3d", {{"norm_type", 2}, {"kernel_size", {2, 1, 3}}}, {normal({2, 4, 3, 6})});
}

// ------------------------------------------------------ FractionalMaxPool

TEST(GradCheckFractionalMaxPool, GivenSamplesOverlappingWindows) {
  // k = 3 with 5 outputs over 7: windows overlap, gradients accumulate.
  expect_gradients("FractionalMaxPool2d", {{"kernel_size", 3}, {"output_size", {5, 4}}},
                   {separated({2, 2, 7, 6}), samples({2, 2, 2}, 0.37f)});
  expect_gradients("FractionalMaxPool2d", {{"kernel_size", {2, 3}}, {"output_size", 3}, {"return_indices", true}},
                   {separated({3, 6, 7}), samples({1, 3, 2}, 0.8f)});  // unbatched
}

TEST(GradCheckFractionalMaxPool, SamplesDrawnFromTheSeed) {
  expect_gradients("FractionalMaxPool2d", {{"kernel_size", 2}, {"output_ratio", {0.7, 0.6}}},
                   {separated({2, 3, 9, 10})});
  expect_gradients("FractionalMaxPool3d", {{"kernel_size", 2}, {"output_ratio", 0.6}, {"return_indices", true}},
                   {separated({1, 2, 6, 7, 6})});
}

TEST(GradCheckFractionalMaxPool, ThreeDWithGivenSamples) {
  expect_gradients("FractionalMaxPool3d", {{"kernel_size", {2, 3, 1}}, {"output_size", {3, 3, 4}}},
                   {separated({1, 2, 5, 6, 5}), samples({1, 2, 3}, 0.5f)});
}

}  // namespace
}  // namespace mininn::testing
