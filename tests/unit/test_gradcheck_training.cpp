// Finite-difference checks of the training ops' backward (gradcheck.h):
// activations, (log-)softmax, Flatten, Linear, Dropout (evaluation),
// BatchNorm1d/2d with batch statistics, and the two losses.
#include "gradcheck.h"

#include <gtest/gtest.h>

namespace mininn::testing {
namespace {

GradInput normal(Shape shape) { return {.shape = std::move(shape)}; }

void expect_gradients(GradCheck check, double min_gradient = 0.05) {
  GradCheckReport report = run_gradcheck(check);
  std::string what = fmt::format("{} {}: {}", check.op, check.attrs.dump(), report.summary());
  EXPECT_TRUE(report.ok()) << what;
  EXPECT_GT(report.max_abs_gradient, min_gradient) << what;
}

Tensor labels(std::vector<int64_t> values) {
  Tensor t = Tensor::empty({static_cast<int64_t>(values.size())}, DType::Int64);
  std::copy(values.begin(), values.end(), t.i64());
  return t;
}

TEST(GradCheckActivation, ElementwiseAwayFromKinks) {
  // ReLU's kink at 0 has no derivative: values on a 0.1 grid shifted by 0.05 keep eps = 0.01 away from it.
  for (auto [op, attrs] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"Sigmoid", nlohmann::json::object()}, {"Tanh", nlohmann::json::object()}}) {
    expect_gradients({.op = op, .attrs = attrs, .inputs = {normal({2, 3, 4})}});
  }
  for (auto [op, attrs] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"ReLU", nlohmann::json::object()}, {"LeakyReLU", {{"negative_slope", 0.2}}}}) {
    Tensor x = Tensor::empty({3, 8});
    for (int64_t i = 0; i < x.numel(); ++i) x.f32()[i] = 0.1f * static_cast<float>((i * 7) % 24 - 12) + 0.05f;
    expect_gradients({.op = op, .attrs = attrs, .inputs = {{.value = x}}});
  }
}

TEST(GradCheckActivation, SoftmaxAndLogSoftmaxOverEveryDim) {
  for (const char* op : {"Softmax", "LogSoftmax"})
    for (int dim : {0, 1, -1}) expect_gradients({.op = op, .attrs = {{"dim", dim}}, .inputs = {normal({3, 4, 2})}}, 0.01);
}

TEST(GradCheckShape, Flatten) {
  expect_gradients({.op = "Flatten", .attrs = {{"start_dim", 1}, {"end_dim", 2}}, .inputs = {normal({2, 3, 2, 2})}});
}

TEST(GradCheckLinear, WeightBiasAndInputWithSeveralLeadingDims) {
  expect_gradients({.op = "Linear", .attrs = {{"in_features", 5}, {"out_features", 3}}, .inputs = {normal({2, 3, 5})}});
  expect_gradients(
      {.op = "Linear", .attrs = {{"in_features", 4}, {"out_features", 2}, {"bias", false}}, .inputs = {normal({4})}});
}

TEST(GradCheckDropout, EvaluationModeIsTheIdentity) {
  expect_gradients({.op = "Dropout", .attrs = {{"p", 0.5}}, .inputs = {normal({2, 5})}});
}

TEST(GradCheckNorm, BatchNormWithBatchStatistics) {
  // track_running_stats=false: batch statistics in every mode, the training formula.
  expect_gradients({.op = "BatchNorm2d",
                    .attrs = {{"num_features", 3}, {"track_running_stats", false}},
                    .inputs = {normal({2, 3, 3, 2})},
                    .eps = 1e-3,
                    .atol = 2e-3});
  expect_gradients({.op = "BatchNorm2d",
                    .attrs = {{"num_features", 2}, {"track_running_stats", false}, {"affine", false}},
                    .inputs = {normal({3, 2, 2, 2})},
                    .eps = 1e-3,
                    .atol = 2e-3});
  for (Shape shape : {Shape{5, 3}, Shape{2, 3, 4}})
    expect_gradients({.op = "BatchNorm1d",
                      .attrs = {{"num_features", 3}, {"track_running_stats", false}},
                      .inputs = {normal(shape)},
                      .eps = 1e-3,
                      .atol = 2e-3});
}

TEST(GradCheckLoss, CrossEntropyWithEveryReductionSmoothingAndIgnoredTargets) {
  for (const char* reduction : {"mean", "sum", "none"})
    for (double smoothing : {0.0, 0.2})
      expect_gradients({.op = "CrossEntropyLoss",
                        .attrs = {{"reduction", reduction}, {"label_smoothing", smoothing}, {"ignore_index", 1}},
                        .inputs = {normal({5, 4}), {.value = labels({0, 1, 3, 2, 0}), .check = false}}},
                       0.01);
}

TEST(GradCheckLoss, MseForInputAndTarget) {
  for (const char* reduction : {"mean", "sum", "none"})
    expect_gradients({.op = "MSELoss", .attrs = {{"reduction", reduction}}, .inputs = {normal({3, 4}), normal({3, 4})}},
                     0.01);
}

}  // namespace
}  // namespace mininn::testing
