// The oneDNN backend at graph level: which nodes run where and why
// (dispatch), compile once / run many (no primitive created by a run), and
// concurrent Executions of one compiled graph.
#include "framework/simd.h"
#include "graph/executor.h"
#include "graph/graph.h"
#include "ops/onednn/stats.h"
#include "test_onednn_harness.h"

#include <thread>

namespace mininn {
namespace {

using nlohmann::json;

// One node `op` with `attrs` over an input of `shape`.
Dispatch dispatch_of(const std::string& op, const json& attrs, const Shape& shape, Backend backend,
                     bool needs_backward = true) {
  testing::OpUnderTest t = testing::make_op(op, attrs, shape);
  KernelConfig config;
  config.inputs = {TensorDesc{DType::Float32, shape}};
  config.outputs = t.outputs;
  for (const ParamDecl& p : t.op->params()) config.params.push_back({DType::Float32, p.shape});
  config.backend = backend;
  config.needs_backward = needs_backward;
  return t.op->make_kernel(config)->dispatch;
}

struct Expectation {
  std::string op;
  json attrs;
  Shape shape;
  std::string forward, backward;  // under Backend::Auto
  std::string reason;             // a part of the reason ("" = no reason)
};

// With 16 planes or more on an AVX-512 CPU, mininn's adaptive kernels run 16
// planes per vector and beat oneDNN (measured): `auto` keeps them, saying
// so; `onednn` still gets oneDNN. (The cases above have 8 planes.) Without
// AVX-512, oneDNN runs them all.
TEST(OneDnnDispatch, AdaptivePoolsOnSixteenPlanesStayWithMininnUnderAuto) {
  const std::string lanes = cpu_has_avx512() ? "naive" : "onednn";
  const std::vector<std::pair<std::string, json>> ops = {{"AdaptiveAvgPool2d", {{"output_size", 7}}},
                                                         {"AdaptiveAvgPool2d", {{"output_size", 1}}},
                                                         {"AdaptiveMaxPool2d", {{"output_size", {2, 7}}}}};
  for (const auto& [op, attrs] : ops) {
    const std::string where = op + " " + attrs.dump();
    Dispatch d = dispatch_of(op, attrs, {2, 8, 14, 14}, Backend::Auto);
    EXPECT_EQ(d.forward, lanes) << where;
    EXPECT_EQ(d.backward, lanes) << where;
    EXPECT_EQ(d.reason.find("16 planes per AVX-512 vector") != std::string::npos, cpu_has_avx512())
        << where << ": " << d.reason;
    EXPECT_EQ(dispatch_of(op, attrs, {2, 8, 14, 14}, Backend::OneDnn).forward, "onednn") << where;
    EXPECT_EQ(dispatch_of(op, attrs, {1, 15, 14, 14}, Backend::Auto).forward, "onednn") << where << ", 15 planes";
  }
  // A plane too large for the vectors' scratch: oneDNN (a global average has no scratch).
  EXPECT_EQ(dispatch_of("AdaptiveAvgPool2d", {{"output_size", 7}}, {1, 16, 98, 98}, Backend::Auto).forward, "onednn");
  EXPECT_EQ(dispatch_of("AdaptiveAvgPool2d", {{"output_size", 1}}, {1, 16, 98, 98}, Backend::Auto).forward, lanes);
}

TEST(OneDnnDispatch, AutoRunsOneDnnWhereExactAndSaysWhyNot) {
  const std::vector<Expectation> cases = {
      {"MaxPool2d", {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}}, {2, 16, 12, 12}, "onednn", "onednn", ""},
      {"MaxPool2d",
       {{"kernel_size", 2}, {"ceil_mode", true}, {"return_indices", true}},
       {2, 5, 7, 7},
       "onednn",
       "onednn",
       ""},
      {"MaxPool1d", {{"kernel_size", 3}}, {64, 20}, "onednn", "onednn", ""},
      {"MaxPool3d", {{"kernel_size", 2}}, {1, 8, 4, 4, 4}, "onednn", "onednn", ""},
      // Where oneDNN would run its scalar simple_nchw kernel, or where its JIT
      // loses to mininn's single pass, auto takes mininn's fast loops.
      {"MaxPool1d", {{"kernel_size", 3}}, {4, 20}, "naive", "naive", "simple_nchw kernel (planes 1 high or 1 wide)"},
      {"MaxPool3d", {{"kernel_size", 2}}, {1, 3, 4, 4, 4}, "naive", "naive", "simple_nchw kernel (N*C = 3 planes"},
      {"MaxPool2d", {{"kernel_size", 2}}, {1, 2, 508, 508}, "naive", "naive", "(N*C = 2 planes, its JIT needs 4"},
      {"AvgPool2d", {{"kernel_size", 2}}, {1, 2, 254, 254}, "naive", "naive", "(N*C = 2 planes, its JIT needs 4"},
      {"AvgPool2d", {{"kernel_size", 2}}, {1, 16, 256, 256}, "naive", "naive", "256x256 planes are too large"},
      {"MaxPool2d", {{"kernel_size", 2}, {"return_indices", true}}, {2, 16, 56, 56}, "naive", "naive",
       "windows of at most 2 per axis over rows of 28 outputs"},
      {"MaxPool2d", {{"kernel_size", 2}}, {2, 16, 28, 28}, "onednn", "onednn", ""},  // rows of 14: oneDNN's JIT
      {"MaxPool2d", {{"kernel_size", 3}, {"stride", 2}}, {2, 16, 56, 56}, "onednn", "onednn", ""},
      // 3-wide at stride 2: mininn's loop from rows of 48 outputs on.
      {"MaxPool2d", {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}}, {1, 8, 92, 92}, "onednn", "onednn", ""},
      {"MaxPool2d", {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}}, {1, 8, 112, 112}, "naive", "naive",
       "3-wide windows at stride 2 over rows of 56 outputs"},
      {"MaxPool2d", {{"kernel_size", 2}, {"dilation", 2}}, {1, 4, 9, 9}, "naive", "naive", "ref:any"},
      {"AvgPool2d",
       {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}, {"ceil_mode", true}},
       {1, 4, 8, 8},
       "onednn",
       "onednn",
       ""},
      {"AvgPool2d",
       {{"kernel_size", 2}, {"divisor_override", 3}},
       {1, 4, 8, 8},
       "naive",
       "naive",
       "divisor_override=3"},
      {"AvgPool2d", {{"kernel_size", 2}, {"divisor_override", 4}}, {1, 4, 8, 8}, "onednn", "onednn", ""},
      {"AdaptiveAvgPool2d", {{"output_size", 7}}, {1, 8, 14, 14}, "onednn", "onednn", ""},
      {"AdaptiveAvgPool2d", {{"output_size", 5}}, {1, 8, 14, 14}, "naive", "naive", "does not divide"},
      {"AdaptiveMaxPool2d", {{"output_size", {2, 7}}, {"return_indices", true}}, {1, 8, 6, 14}, "onednn", "onednn", ""},
      {"AdaptiveMaxPool3d", {{"output_size", 3}}, {1, 2, 5, 6, 6}, "naive", "naive", "does not divide"},
      {"AdaptiveAvgPool2d", {{"output_size", 0}}, {1, 8, 14, 14}, "naive", "naive", "empty output"},
      {"MaxPool2d", {{"kernel_size", 2}}, {0, 4, 8, 8}, "naive", "naive", "empty input"},
      {"MaxUnpool2d", {{"kernel_size", 2}}, {1, 4, 4, 4}, "naive", "naive", "no unpooling primitive"},
      {"Conv2d", {{"in_channels", 3}, {"out_channels", 8}, {"kernel_size", 3}}, {1, 3, 9, 9}, "onednn", "onednn", ""},
      {"Conv2d",
       {{"in_channels", 4}, {"out_channels", 4}, {"kernel_size", 3}, {"padding", 1}, {"padding_mode", "reflect"}},
       {1, 4, 9, 9},
       "onednn",
       "onednn",
       ""},
      {"Conv2d",
       {{"in_channels", 4}, {"out_channels", 4}, {"kernel_size", 3}},
       {0, 4, 9, 9},
       "naive",
       "naive",
       "empty input"},
  };
  for (const Expectation& e : cases) {
    const std::string where = e.op + " " + e.attrs.dump() + " on " + to_string(e.shape);
    Shape shape = e.shape;
    if (e.op == "MaxUnpool2d") {
      // MaxUnpool takes indices as a second input.
      testing::OpUnderTest t;
      const OpSchema* schema = registry().find(e.op);
      t.op = schema->create(Attrs(schema->attrs, e.attrs, "attrs", 2));
      t.outputs = t.op->infer({TensorDesc{DType::Float32, shape}, TensorDesc{DType::Int64, shape}});
      KernelConfig config{{{DType::Float32, shape}, {DType::Int64, shape}}, t.outputs, {}, Backend::Auto, false, true};
      Dispatch d = t.op->make_kernel(config)->dispatch;
      EXPECT_EQ(d.forward, e.forward) << where;
      EXPECT_NE(d.reason.find(e.reason), std::string::npos) << where << ": " << d.reason;
      continue;
    }
    Dispatch d = dispatch_of(e.op, e.attrs, shape, Backend::Auto);
    EXPECT_EQ(d.forward, e.forward) << where << ": " << d.reason;
    EXPECT_EQ(d.backward, e.backward) << where << ": " << d.reason;
    if (e.reason.empty())
      EXPECT_EQ(d.reason, "") << where;
    else
      EXPECT_NE(d.reason.find(e.reason), std::string::npos) << where << ": " << d.reason;
    // Forcing naive always works, and says so.
    Dispatch naive = dispatch_of(e.op, e.attrs, shape, Backend::Naive);
    EXPECT_EQ(naive.forward, "naive") << where;
    EXPECT_EQ(naive.reason, "naive backend requested") << where;
  }
}

// --backend onednn runs dilated max pooling on oneDNN's (slow, exact)
// reference kernel, and pools auto gives to mininn's loops on oneDNN's
// simple_nchw or JIT kernels; auto does not. What oneDNN cannot do exactly
// still falls back.
TEST(OneDnnDispatch, ForcedOneDnnTakesEveryExactCase) {
  Dispatch d = dispatch_of("MaxPool2d", {{"kernel_size", 2}, {"dilation", 2}}, {1, 4, 9, 9}, Backend::OneDnn);
  EXPECT_EQ(d.forward, "onednn");
  d = dispatch_of("MaxPool2d", {{"kernel_size", 2}}, {1, 2, 508, 508}, Backend::OneDnn);
  EXPECT_EQ(d.forward, "onednn");
  EXPECT_EQ(d.backward, "onednn");
  d = dispatch_of("AvgPool3d", {{"kernel_size", 2}, {"ceil_mode", true}}, {1, 3, 4, 5, 6}, Backend::OneDnn);
  EXPECT_EQ(d.forward, "onednn");
  d = dispatch_of("MaxPool2d", {{"kernel_size", 2}, {"return_indices", true}}, {2, 16, 56, 56}, Backend::OneDnn);
  EXPECT_EQ(d.forward, "onednn");
  d = dispatch_of("AvgPool2d", {{"kernel_size", 2}, {"divisor_override", 3}}, {1, 4, 8, 8}, Backend::OneDnn);
  EXPECT_EQ(d.forward, "naive");
  EXPECT_NE(d.reason.find("divisor_override"), std::string::npos);
}

const char* kModel = R"({
  "format": "mininn/1", "name": "onednn-test", "seed": 3,
  "inputs": [ { "name": "image", "shape": [null, 3, 20, 20] } ],
  "nodes": [
    { "name": "conv", "op": "Conv2d", "inputs": ["image"], "outputs": ["features"],
      "attrs": { "in_channels": 3, "out_channels": 20, "kernel_size": 3, "padding": 1 } },
    { "name": "max", "op": "MaxPool2d", "inputs": ["features"], "outputs": ["max", "indices"],
      "attrs": { "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": true, "return_indices": true } },
    { "name": "avg", "op": "AvgPool2d", "inputs": ["features"], "outputs": ["avg"],
      "attrs": { "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": true } },
    { "name": "adaptive", "op": "AdaptiveMaxPool2d", "inputs": ["avg"], "outputs": ["adaptive"],
      "attrs": { "output_size": 5 } },
    { "name": "unpool", "op": "MaxUnpool2d", "inputs": ["max", "indices"], "outputs": ["unpooled"],
      "attrs": { "kernel_size": 3, "stride": 2, "padding": 1, "output_size": [20, 20] } }
  ],
  "outputs": ["adaptive", "unpooled"]
})";

std::shared_ptr<const Graph> model() { return std::make_shared<const Graph>(parse_model(kModel, "test", ".")); }

// Runs forward and backward; returns outputs and the input gradient.
std::vector<Tensor> run_once(Execution& run, const Tensor& image, const Graph& g) {
  run.forward({image});
  run.backward({});
  return {run.output(0).clone(), run.output(1).clone(), run.grad(g.inputs[0].value).clone(),
          run.param_grad(g.find_param("conv.weight")).clone()};
}

TEST(OneDnnGraph, SecondRunCreatesNoPrimitive) {
  auto graph = model();
  const int64_t before_compile = onednn::primitives_created_total();
  CompiledGraph plan(graph, {{2, 3, 20, 20}}, {Backend::OneDnn, false, true});
  const int64_t after_compile = onednn::primitives_created_total();
  EXPECT_GT(plan.primitives_created(), 0);
  EXPECT_EQ(after_compile - before_compile, plan.primitives_created());
  std::printf("[ onednn  ] compiling the graph created %d primitives\n", plan.primitives_created());

  std::mt19937 rng(1);
  Tensor image = testing::uniform_tensor({2, 3, 20, 20}, rng);
  Execution run(plan);
  std::vector<Tensor> first = run_once(run, image, *graph);
  std::vector<Tensor> second = run_once(run, image, *graph);
  Execution another(plan);
  run_once(another, image, *graph);
  EXPECT_EQ(onednn::primitives_created_total(), after_compile) << "a run created primitives";
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(testing::first_bit_difference(first[i], second[i]), -1);
}

TEST(OneDnnGraph, OneDnnAndNaiveAgreeOnTheWholeGraph) {
  auto graph = model();
  std::mt19937 rng(2);
  Tensor image = testing::uniform_tensor({2, 3, 20, 20}, rng);
  CompiledGraph fast(graph, {{2, 3, 20, 20}}, {Backend::Auto, false, true});
  CompiledGraph slow(graph, {{2, 3, 20, 20}}, {Backend::Naive, false, true});
  Execution a(fast), b(slow);
  std::vector<Tensor> x = run_once(a, image, *graph), y = run_once(b, image, *graph);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_LE(testing::max_relative_error(x[i], y[i]), 1e-4) << "result " << i;
}

// Executions of one compiled graph on several threads: each has its own
// scratchpads and workspaces, results equal the single-threaded ones.
TEST(OneDnnGraph, ConcurrentExecutionsShareTheCompiledGraph) {
  auto graph = model();
  CompiledGraph plan(graph, {{2, 3, 20, 20}}, {Backend::OneDnn, false, true});
  std::mt19937 rng(3);
  std::vector<Tensor> images, expected;
  for (int i = 0; i < 4; ++i) images.push_back(testing::uniform_tensor({2, 3, 20, 20}, rng));
  std::vector<std::vector<Tensor>> want(4), got(4);
  for (int i = 0; i < 4; ++i) {
    Execution run(plan);
    want[i] = run_once(run, images[i], *graph);
  }
  const int64_t before = onednn::primitives_created_total();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      Execution run(plan);
      for (int repeat = 0; repeat < 5; ++repeat) got[i] = run_once(run, images[i], *graph);
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(onednn::primitives_created_total(), before);
  for (int i = 0; i < 4; ++i)
    for (size_t k = 0; k < want[i].size(); ++k) EXPECT_EQ(testing::first_bit_difference(got[i][k], want[i][k]), -1);
}

}  // namespace
}  // namespace mininn
