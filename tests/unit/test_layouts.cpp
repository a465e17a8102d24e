// Layout propagation (CompiledGraph::build_kernels, Kernel::layouts): values
// between oneDNN kernels stay in oneDNN's layouts for inference. A graph
// compiled with propagation must give the bits of the same graph compiled
// without it, on inputs full of NaN, infinities and ties; and values must
// stay plain exactly where they have to.
#include "graph/executor.h"
#include "graph/graph.h"
#include "ops/onednn/stats.h"
#include "test_onednn_harness.h"

#include <fmt/format.h>

#include <cstdio>
#include <limits>
#include <random>

namespace mininn {
namespace {

using nlohmann::json;

json node(const std::string& name, const std::string& op, const std::string& input, const std::string& output,
          json attrs = json::object()) {
  return {{"name", name}, {"op", op}, {"inputs", {input}}, {"outputs", {output}}, {"attrs", std::move(attrs)}};
}

std::shared_ptr<const Graph> graph_of(const Shape& input, const json& nodes, const json& outputs, uint64_t seed = 5) {
  json model = {{"format", "mininn/1"},
                {"name", "layouts"},
                {"seed", seed},
                {"inputs", {{{"name", "x"}, {"shape", input}}}},
                {"nodes", nodes},
                {"outputs", outputs}};
  return std::make_shared<const Graph>(parse_model(model.dump(), "test", "."));
}

json conv_attrs(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, int64_t groups = 1) {
  return {{"in_channels", in}, {"out_channels", out}, {"kernel_size", kernel},
          {"stride", stride},  {"padding", padding},  {"groups", groups}};
}

// A random 2-d pool the blocked kernels may take: max, average or adaptive.
json random_pool(std::mt19937& rng, const std::string& name, const std::string& in, const std::string& out,
                 int64_t h, int64_t w) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int kind = pick(0, 5);
  if (kind == 4) {  // adaptive, divisible sizes so that oneDNN runs it
    int64_t oh = h % 2 == 0 && pick(0, 1) ? h / 2 : 1, ow = w % 2 == 0 && pick(0, 1) ? w / 2 : 1;
    return node(name, pick(0, 1) ? "AdaptiveAvgPool2d" : "AdaptiveMaxPool2d", in, out, {{"output_size", {oh, ow}}});
  }
  const int64_t kernel = std::min<int64_t>(pick(1, 3), std::min(h, w));
  json attrs = {{"kernel_size", kernel}, {"stride", pick(1, 3)}, {"padding", pick(0, static_cast<int>(kernel / 2))},
                {"ceil_mode", pick(0, 2) == 0}};
  if (kind <= 2) return node(name, "MaxPool2d", in, out, attrs);
  attrs["count_include_pad"] = pick(0, 1) == 1;
  return node(name, "AvgPool2d", in, out, attrs);
}

struct Chain {
  std::shared_ptr<const Graph> graph;
  Shape input;
  std::string about;
};

// x -> conv [-> ReLU] -> pool [-> conv -> pool], the last value the output,
// and now and then the first conv's output as a second output (it must then
// stay plain). Channel counts include multiples of 16 (blocked, no padding)
// and others (a blocked layout would pad: plain); depthwise 1x1 convs with
// unit weights carry -inf and -FLT_MAX through unchanged, so that pools meet
// all -inf windows in a blocked layout.
Chain random_chain(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int64_t channels[] = {16, 32, 48, 8, 6};
  const int64_t in_c = pick(0, 2) ? 16 : 3, c = channels[pick(0, 4)];
  const int64_t h = pick(4, 13), w = pick(4, 13);
  const bool depthwise = in_c == 16 && pick(0, 2) == 0;
  json nodes = json::array();
  json conv = depthwise ? conv_attrs(16, 16, 1, 1, 0, 16) : conv_attrs(in_c, c, pick(1, 3), 1, pick(0, 1));
  nodes.push_back(node("conv1", "Conv2d", "x", "c1", conv));
  if (depthwise) nodes.back()["params"] = {{"weight", {{"init", "ones"}}}, {"bias", {{"init", "zeros"}}}};
  std::string last = "c1";
  if (pick(0, 1)) {
    nodes.push_back(node("relu", "ReLU", "c1", "r1"));
    last = "r1";
  }
  const Shape conv_out = testing::make_op("Conv2d", conv, {1, in_c, h, w}).outputs[0].shape;
  nodes.push_back(random_pool(rng, "pool1", last, "p1", conv_out[2], conv_out[3]));
  last = "p1";
  if (pick(0, 1)) {
    const int64_t out_c = depthwise ? 16 : conv["out_channels"].get<int64_t>();
    nodes.push_back(node("conv2", "Conv2d", "p1", "c2", conv_attrs(out_c, 32, 1, 1, 0)));
    nodes.push_back(node("pool2", "MaxPool2d", "c2", "p2", {{"kernel_size", 1}}));
    last = "p2";
  }
  json outputs = pick(0, 4) == 0 ? json{last, "c1"} : json{last};
  Shape input = {pick(1, 3), in_c, h, w};
  std::shared_ptr<const Graph> graph;
  try {
    graph = graph_of(input, nodes, outputs, pick(1, 1000));
  } catch (const Error&) {
    return {};  // a pool that does not fit (PyTorch refuses it too)
  }
  return {graph, input, nodes.dump()};
}

std::vector<Tensor> run_all(const CompiledGraph& plan, const Tensor& input, int times = 1) {
  Execution run(plan);
  for (int i = 0; i < times; ++i) run.forward({input});
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < plan.graph().outputs.size(); ++i) outputs.push_back(run.output(i).clone());
  return outputs;
}

int propagated_values(const CompiledGraph& plan) {
  int count = 0;
  for (size_t v = 0; v < plan.graph().values.size(); ++v) count += plan.layout(static_cast<int>(v)) != nullptr;
  return count;
}

TEST(Layouts, PropagatedGraphsGiveThePlainBits) {
  std::mt19937 rng(606);
  const float inf = std::numeric_limits<float>::infinity();
  int graphs = 0, propagated = 0, fallbacks = 0;
  for (int trial = 0; graphs < 150 && trial < 1000; ++trial) {
    const Chain chain = random_chain(rng);
    if (!chain.graph) continue;
    Tensor input = Tensor::empty(chain.input);
    testing::fill_awkward(input.f32(), input.numel(), rng, trial % 3 == 0);
    if (trial % 4 == 1) {  // a block of -inf (or -FLT_MAX): whole pooling windows of it
      const float low = trial % 8 == 1 ? -inf : -std::numeric_limits<float>::max();
      for (int64_t i = 0; i < input.numel() / 3; ++i) input.f32()[i] = low;
      ++fallbacks;
    }
    CompileOptions with = {Backend::Auto, false, false}, without = with;
    without.propagate_layouts = false;
    CompiledGraph plan(chain.graph, {chain.input}, with), reference(chain.graph, {chain.input}, without);
    ASSERT_EQ(propagated_values(reference), 0);
    propagated += propagated_values(plan) > 0;
    for (int v : chain.graph->outputs) EXPECT_EQ(plan.layout(v), nullptr) << "graph outputs are plain";

    const std::vector<Tensor> want = run_all(reference, input);
    const int64_t created = onednn::primitives_created_total();
    const std::vector<Tensor> got = run_all(plan, input, 2);  // the second run reuses every buffer
    EXPECT_EQ(onednn::primitives_created_total(), created) << "a run created primitives";
    for (size_t i = 0; i < want.size(); ++i) {
      const int64_t at = testing::first_bit_difference(got[i], want[i]);
      EXPECT_EQ(at, -1) << "trial " << trial << " output " << i << " element " << at << ": "
                        << (at >= 0 ? got[i].f32()[at] : 0) << " vs " << (at >= 0 ? want[i].f32()[at] : 0) << "\n"
                        << chain.about;
    }
    ++graphs;
  }
  std::printf("[ layouts  ] %d random conv/pool graphs bit-identical with and without layout propagation "
              "(%d propagated a layout, %d with -inf / -FLT_MAX blocks)\n",
              graphs, propagated, fallbacks);
  EXPECT_EQ(graphs, 150);
  EXPECT_GT(propagated, graphs / 4);
}

// conv1 -> ReLU -> conv2 -> ReLU -> pool, 64 channels: both activations
// pass in oneDNN's layout, and only the edges convert.
TEST(Layouts, ConvChainsPassBlockedAndConvertAtTheEdges) {
  json nodes = {node("conv1", "Conv2d", "x", "c1", conv_attrs(64, 64, 3, 1, 1)), node("relu1", "ReLU", "c1", "r1"),
                node("conv2", "Conv2d", "r1", "c2", conv_attrs(64, 64, 3, 1, 1)), node("relu2", "ReLU", "c2", "r2"),
                node("pool", "MaxPool2d", "r2", "y", {{"kernel_size", 2}})};
  auto graph = graph_of({2, 64, 10, 10}, nodes, {"y"});
  CompiledGraph plan(graph, {{2, 64, 10, 10}}, {Backend::Auto, false, false});
  const int r1 = graph->find_value("r1"), r2 = graph->find_value("r2");
  ASSERT_NE(plan.layout(r1), nullptr);
  ASSERT_NE(plan.layout(r2), nullptr);
  EXPECT_EQ(layout_name(plan.layout(r1)).substr(0, 4), "nChw") << layout_name(plan.layout(r1));
  EXPECT_EQ(plan.layout(graph->find_value("x")), nullptr);
  EXPECT_EQ(plan.layout(graph->find_value("y")), nullptr);
  auto conversions = [&](const char* name) { return plan.kernel(graph->find_node(name)).dispatch.conversions; };
  // conv1 converts its input, conv2 only its weights, the pool its output.
  ASSERT_FALSE(conversions("conv1").empty());
  EXPECT_EQ(conversions("conv1")[0].rfind("input 0: nchw -> nChw", 0), 0u) << conversions("conv1")[0];
  for (const std::string& c : conversions("conv2")) EXPECT_EQ(c.rfind("weight: ", 0), 0u) << c;
  ASSERT_EQ(conversions("pool").size(), 1u);
  EXPECT_EQ(conversions("pool")[0].rfind("output 0: nChw", 0), 0u) << conversions("pool")[0];

  std::mt19937 rng(3);
  Tensor input = testing::uniform_tensor({2, 64, 10, 10}, rng);
  CompileOptions plain = {Backend::Auto, false, false};
  plain.propagate_layouts = false;
  CompiledGraph reference(graph, {{2, 64, 10, 10}}, plain);
  EXPECT_EQ(testing::first_bit_difference(run_all(plan, input)[0], run_all(reference, input)[0]), -1);
}

// Where a value has to stay plain.
TEST(Layouts, PlainWhereAReaderOrTheCallerNeedsIt) {
  const Shape shape = {1, 32, 8, 8};
  const json conv = node("conv", "Conv2d", "x", "c", conv_attrs(32, 32, 3, 1, 1));
  const json pool = node("pool", "MaxPool2d", "c", "y", {{"kernel_size", 2}});
  auto layout_of_c = [&](const json& nodes, const json& outputs, CompileOptions options) {
    auto graph = graph_of({1, nodes[0]["attrs"]["in_channels"].get<int64_t>(), 8, 8}, nodes, outputs);
    CompiledGraph plan(graph, {{1, nodes[0]["attrs"]["in_channels"].get<int64_t>(), 8, 8}}, options);
    return plan.layout(graph->find_value("c"));
  };
  const CompileOptions inference = {Backend::Auto, false, false};
  EXPECT_NE(layout_of_c({conv, pool}, {"y"}, inference), nullptr);
  EXPECT_NE(layout_of_c({conv, pool}, {"y"}, {Backend::OneDnn, false, false}), nullptr);
  // A global average pool (where mininn's own kernel wins on a plain input)
  // takes it too.
  const json global = node("pool", "AdaptiveAvgPool2d", "c", "y", {{"output_size", 1}});
  EXPECT_NE(layout_of_c({conv, global}, {"y"}, inference), nullptr);
  // Not when compiled for backward, nor on the naive backend.
  EXPECT_EQ(layout_of_c({conv, pool}, {"y"}, {Backend::Auto, false, true}), nullptr);
  EXPECT_EQ(layout_of_c({conv, pool}, {"y"}, {Backend::Naive, false, false}), nullptr);
  // Not when the caller reads it (a graph output).
  EXPECT_EQ(layout_of_c({conv, pool}, {"y", "c"}, inference), nullptr);
  // Not when one of its readers is a kernel that reads plain values only.
  EXPECT_EQ(layout_of_c({conv, pool, node("sig", "Sigmoid", "c", "s")}, {"y", "s"}, inference), nullptr);
  // Not into a max pool that outputs indices (they are plain offsets).
  json indices = pool;
  indices["attrs"]["return_indices"] = true;
  indices["outputs"] = {"y", "i"};
  EXPECT_EQ(layout_of_c({conv, indices}, {"y", "i"}, inference), nullptr);
  // Not where a blocked layout would pad the channels (6 is no multiple of 8 or 16).
  const json narrow = node("conv", "Conv2d", "x", "c", conv_attrs(32, 6, 3, 1, 1));
  EXPECT_EQ(layout_of_c({narrow, pool}, {"y"}, inference), nullptr);
}

}  // namespace
}  // namespace mininn
