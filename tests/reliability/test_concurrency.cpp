// One CompiledGraph run by several threads at once, each with its own
// Execution, gives bit for bit what sequential runs give: forward and
// backward, on each backend, through a convolution and every pooling family
// (max with indices and its unpool, average, LP, adaptive max and average,
// fractional with random samples drawn per Execution) in 1, 2 and 3
// dimensions. Kernels are shared and immutable; saved indices, oneDNN
// scratchpads and workspaces and the random stream live in each Execution.
//
// ctest runs it in every build, and under ThreadSanitizer (MININN_TSAN)
// with OMP_NUM_THREADS=1: see tests/reliability/CMakeLists.txt for why.
#include "graph/executor.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>

namespace mininn {
namespace {

const char* kModel = R"({
  "format": "mininn/1", "seed": 5,
  "inputs": [ {"name": "image", "shape": [null, 3, 12, 12]},
              {"name": "signal", "shape": [2, 3, 20]},
              {"name": "volume", "shape": [1, 2, 6, 6, 6]} ],
  "nodes": [
    {"name": "conv", "op": "Conv2d", "inputs": ["image"], "outputs": ["c"],
     "attrs": {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "padding": 1}},
    {"name": "max", "op": "MaxPool2d", "inputs": ["c"], "outputs": ["mp", "mi"],
     "attrs": {"kernel_size": 2, "stride": 2, "return_indices": true}},
    {"name": "unpool", "op": "MaxUnpool2d", "inputs": ["mp", "mi"], "outputs": ["un"],
     "attrs": {"kernel_size": 2, "stride": 2}},
    {"name": "max_dilated", "op": "MaxPool2d", "inputs": ["c"], "outputs": ["md"],
     "attrs": {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": true}},
    {"name": "avg", "op": "AvgPool2d", "inputs": ["c"], "outputs": ["ap"],
     "attrs": {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": true, "count_include_pad": false}},
    {"name": "lp", "op": "LPPool2d", "inputs": ["c"], "outputs": ["lp"], "attrs": {"norm_type": 2, "kernel_size": 2}},
    {"name": "adaptive_max", "op": "AdaptiveMaxPool2d", "inputs": ["c"], "outputs": ["am"], "attrs": {"output_size": 5}},
    {"name": "adaptive_avg", "op": "AdaptiveAvgPool2d", "inputs": ["c"], "outputs": ["aa"],
     "attrs": {"output_size": [3, 4]}},
    {"name": "fractional", "op": "FractionalMaxPool2d", "inputs": ["c"], "outputs": ["fm"],
     "attrs": {"kernel_size": 2, "output_size": 5}},
    {"name": "max1", "op": "MaxPool1d", "inputs": ["signal"], "outputs": ["m1"], "attrs": {"kernel_size": 3, "stride": 2}},
    {"name": "avg1", "op": "AvgPool1d", "inputs": ["signal"], "outputs": ["a1"], "attrs": {"kernel_size": 4, "padding": 2}},
    {"name": "lp1", "op": "LPPool1d", "inputs": ["signal"], "outputs": ["l1"], "attrs": {"norm_type": 1, "kernel_size": 3}},
    {"name": "adaptive_max1", "op": "AdaptiveMaxPool1d", "inputs": ["signal"], "outputs": ["x1"], "attrs": {"output_size": 7}},
    {"name": "max3", "op": "MaxPool3d", "inputs": ["volume"], "outputs": ["m3", "i3"],
     "attrs": {"kernel_size": 2, "stride": 2, "return_indices": true}},
    {"name": "unpool3", "op": "MaxUnpool3d", "inputs": ["m3", "i3"], "outputs": ["u3"], "attrs": {"kernel_size": 2}},
    {"name": "avg3", "op": "AvgPool3d", "inputs": ["volume"], "outputs": ["a3"], "attrs": {"kernel_size": [2, 3, 3]}},
    {"name": "adaptive_avg3", "op": "AdaptiveAvgPool3d", "inputs": ["volume"], "outputs": ["x3"],
     "attrs": {"output_size": [4, 4, 5]}},
    {"name": "fractional3", "op": "FractionalMaxPool3d", "inputs": ["volume"], "outputs": ["f3"],
     "attrs": {"kernel_size": 2, "output_ratio": 0.5}}
  ],
  "outputs": ["mp", "un", "md", "ap", "lp", "am", "aa", "fm", "m1", "a1", "l1", "x1", "m3", "u3", "a3", "x3", "f3"]
})";

constexpr int kThreads = 4;
constexpr int kRunsPerExecution = 3;

// Every number a run produces: outputs, then input and parameter gradients.
using Results = std::vector<Tensor>;

std::vector<std::vector<Tensor>> make_inputs(const CompiledGraph& plan, int count) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> uniform(-2, 2);
  std::vector<std::vector<Tensor>> all(count);
  for (auto& inputs : all)
    for (const GraphInput& input : plan.graph().inputs) {
      Tensor t = Tensor::empty(plan.desc(input.value).shape);
      for (float& v : t.floats()) v = uniform(rng);
      inputs.push_back(t);
    }
  return all;
}

Results run_once(Execution& execution, const Graph& graph, const std::vector<Tensor>& inputs) {
  execution.forward(inputs);
  execution.backward({});
  Results results;
  for (size_t i = 0; i < graph.outputs.size(); ++i) results.push_back(execution.output(i).clone());
  for (const GraphInput& input : graph.inputs) results.push_back(execution.grad(input.value).clone());
  for (size_t p = 0; p < graph.params.size(); ++p) results.push_back(execution.param_grad(static_cast<int>(p)).clone());
  return results;
}

bool identical(const Tensor& a, const Tensor& b) {
  return a.desc() == b.desc() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

class Concurrency : public testing::TestWithParam<Backend> {};

TEST_P(Concurrency, ThreadsSharingACompiledGraphMatchSequentialRunsBitForBit) {
  auto graph = std::make_shared<const Graph>(parse_model(kModel, "concurrency.json", "."));
  std::vector<Shape> shapes = {{2, 3, 12, 12}, {2, 3, 20}, {1, 2, 6, 6, 6}};
  const CompiledGraph plan(graph, shapes, {GetParam(), false, true});
  const auto inputs = make_inputs(plan, kThreads * kRunsPerExecution);

  // Sequential: thread t's Execution sees inputs t*R .. t*R+R-1 in order
  // (its random stream, and so the fractional windows, advance per run).
  std::vector<std::vector<Results>> expected(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    Execution execution(plan);
    for (int r = 0; r < kRunsPerExecution; ++r)
      expected[t].push_back(run_once(execution, *graph, inputs[t * kRunsPerExecution + r]));
  }

  std::vector<std::vector<Results>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      Execution execution(plan);
      for (int r = 0; r < kRunsPerExecution; ++r)
        got[t].push_back(run_once(execution, *graph, inputs[t * kRunsPerExecution + r]));
    });
  for (std::thread& thread : threads) thread.join();

  for (int t = 0; t < kThreads; ++t)
    for (int r = 0; r < kRunsPerExecution; ++r) {
      ASSERT_EQ(got[t][r].size(), expected[t][r].size());
      for (size_t k = 0; k < got[t][r].size(); ++k)
        EXPECT_TRUE(identical(got[t][r][k], expected[t][r][k])) << "thread " << t << ", run " << r << ", result " << k;
    }

  // And the different threads really did different work: the runs differ.
  EXPECT_FALSE(identical(expected[0][0][0], expected[1][0][0]));
}

INSTANTIATE_TEST_SUITE_P(Backends, Concurrency, testing::Values(Backend::Naive, Backend::OneDnn, Backend::Auto),
                         [](const testing::TestParamInfo<Backend>& info) { return std::string(backend_name(info.param)); });

}  // namespace
}  // namespace mininn
