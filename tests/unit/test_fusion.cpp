// Conv2d + ReLU / LeakyReLU fused for inference (CompiledGraph::plan_fusion,
// KernelConfig::post_op): the fused graph must give the bits of the same
// graph run node by node, on inputs full of NaN, infinities and signed
// zeros; and fusion must happen exactly where it is allowed.
#include "graph/executor.h"
#include "graph/graph.h"
#include "ops/onednn/stats.h"
#include "test_onednn_harness.h"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>

namespace mininn {
namespace {

using nlohmann::json;
using testing::fill_awkward;

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// The first element where two tensors differ in their bits, or -1.
int64_t first_difference(const Tensor& a, const Tensor& b) {
  if (a.desc() != b.desc()) return 0;
  if (std::memcmp(a.f32(), b.f32(), a.nbytes()) == 0) return -1;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (bits(a.f32()[i]) != bits(b.f32()[i])) return i;
  return -1;
}

struct ConvCase {
  json conv;
  Shape input;
};

// A Conv2d that PyTorch accepts: random channels, groups, kernel, stride,
// padding (including 'same'), dilation, bias and padding mode.
ConvCase random_conv(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    int groups = pick(0, 3) == 0 ? pick(2, 4) : 1;
    int in_channels = groups * pick(1, 6), out_channels = groups * pick(1, 7);
    if (pick(0, 5) == 0) in_channels = out_channels = groups = pick(3, 17);  // depthwise
    if (pick(0, 5) == 0) in_channels = 16, out_channels = 32, groups = 1;    // the blocked JIT kernels
    int kh = pick(1, 4), kw = pick(0, 2) ? kh : pick(1, 4);
    int stride = pick(1, 3), dilation = pick(0, 3) ? 1 : pick(2, 3);
    int h = pick(3, 14), w = pick(3, 14);
    json padding = pick(0, 4) ? json(pick(0, 2)) : json(stride == 1 ? "same" : "valid");
    const char* modes[] = {"zeros", "zeros", "zeros", "reflect", "replicate", "circular"};
    json conv = {{"in_channels", in_channels}, {"out_channels", out_channels}, {"kernel_size", {kh, kw}},
                 {"stride", stride},           {"padding", padding},           {"dilation", dilation},
                 {"groups", groups},           {"bias", pick(0, 3) != 0},      {"padding_mode", modes[pick(0, 5)]}};
    Shape input = {pick(1, 3), in_channels, h, w};
    try {
      testing::make_op("Conv2d", conv, input);  // throws when PyTorch would refuse it
      return {conv, input};
    } catch (const Error&) {
    }
  }
}

// conv -> activation [-> pool], the last one the graph's output.
std::string model_text(const ConvCase& c, const json& activation, bool pool) {
  json nodes = json::array();
  nodes.push_back({{"name", "conv"}, {"op", "Conv2d"}, {"inputs", {"x"}}, {"outputs", {"y"}}, {"attrs", c.conv}});
  nodes.push_back(activation);
  if (pool)
    nodes.push_back({{"name", "pool"},
                     {"op", "MaxPool2d"},
                     {"inputs", {"a"}},
                     {"outputs", {"p"}},
                     {"attrs", {{"kernel_size", 2}, {"stride", 1}, {"ceil_mode", true}}}});
  json model = {{"format", "mininn/1"},
                {"name", "fusion-test"},
                {"seed", 11},
                {"inputs", {{{"name", "x"}, {"shape", c.input}}}},
                {"nodes", nodes},
                {"outputs", {pool ? "p" : "a"}}};
  return model.dump();
}

json activation_node(const std::string& op, float slope) {
  json node = {{"name", "act"}, {"op", op}, {"inputs", {"y"}}, {"outputs", {"a"}}};
  if (op == "LeakyReLU") node["attrs"] = {{"negative_slope", slope}};
  return node;
}

// The graph's parameters, made awkward too: some weights +-0, a few NaN or
// -inf (when `specials`), the first bias -0.0.
std::shared_ptr<const Graph> awkward_graph(const std::string& text, std::mt19937& rng, bool specials) {
  Graph g = parse_model(text, "test", ".");
  std::uniform_int_distribution<int> pick(0, 299);
  for (Parameter& p : g.params) {
    float* v = p.tensor.f32();
    for (int64_t i = 0; i < p.tensor.numel(); ++i) {
      int r = pick(rng);
      if (r < 10) v[i] = r % 2 ? 0.0f : -0.0f;
      if (r == 10 && specials) v[i] = std::numeric_limits<float>::quiet_NaN();
      if (r == 11 && specials) v[i] = -std::numeric_limits<float>::infinity();
    }
    if (p.name.find("bias") != std::string::npos) v[0] = -0.0f;
  }
  return std::make_shared<const Graph>(std::move(g));
}

Tensor run_graph(const CompiledGraph& plan, const Tensor& input) {
  Execution run(plan);
  run.forward({input});
  return run.output(0).clone();
}

TEST(Fusion, ConvActivationBitIdenticalToUnfused) {
  std::mt19937 rng(2024);
  const std::vector<std::pair<std::string, float>> activations = {
      {"ReLU", 0.0f},       {"LeakyReLU", 0.01f}, {"LeakyReLU", 0.2f}, {"LeakyReLU", 0.0f},
      {"LeakyReLU", -0.5f}, {"LeakyReLU", 1.5f},  {"LeakyReLU", 1e-40f}};
  int configurations = 0, with_nan_outputs = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const ConvCase c = random_conv(rng);
    const auto& [op, slope] = activations[trial % activations.size()];
    const Shape conv_out = testing::make_op("Conv2d", c.conv, c.input).outputs[0].shape;
    const bool pool = trial % 3 == 2 && conv_out[2] >= 2 && conv_out[3] >= 2;
    const bool specials = trial % 4 == 0;  // NaN / -inf weights in a quarter of the cases, all-finite inputs in another
    std::shared_ptr<const Graph> graph = awkward_graph(model_text(c, activation_node(op, slope), pool), rng, specials);
    const int conv = graph->find_node("conv"), act = graph->find_node("act");
    Tensor input = Tensor::empty(c.input);
    fill_awkward(input.f32(), input.numel(), rng, trial % 4 == 3);

    const Backend backend = trial % 2 ? Backend::OneDnn : Backend::Auto;
    const std::string where = fmt::format("trial {}: {} {} on {} -> {}({}){}", trial, backend_name(backend),
                                          c.conv.dump(), to_string(c.input), op, slope, pool ? " -> pool" : "");
    CompiledGraph fused(graph, {c.input}, {backend, false, false});
    ASSERT_EQ(fused.fused_into(act), conv) << where;
    EXPECT_EQ(fused.kernel(act).dispatch.forward, "fused into 'conv'") << where;
    CompiledGraph separate(graph, {c.input}, {backend, false, true});
    ASSERT_EQ(separate.fused_into(act), -1) << where;
    EXPECT_EQ(fused.kernel(conv).dispatch.forward, separate.kernel(conv).dispatch.forward) << where;

    const Tensor want = run_graph(separate, input);
    // Twice: the second run reuses the buffers (and must create nothing).
    Tensor got = run_graph(fused, input);
    const int64_t created = onednn::primitives_created_total();
    Execution again(fused);
    again.forward({input});
    again.forward({input});
    EXPECT_EQ(onednn::primitives_created_total(), created) << where << ": a run created primitives";
    for (const Tensor& result : {got, again.output(0)}) {
      int64_t at = first_difference(result, want);
      EXPECT_EQ(at, -1) << where << ": element " << at << " fused " << result.f32()[at] << " (0x" << std::hex
                        << bits(result.f32()[at]) << ") vs separate " << want.f32()[at] << " (0x"
                        << bits(want.f32()[at]) << ")";
    }
    for (int64_t i = 0; i < want.numel(); ++i)
      if (std::isnan(want.f32()[i])) {
        ++with_nan_outputs;
        break;
      }
    ++configurations;
  }
  std::printf("[ fusion   ] %d random conv+activation graphs bit-identical fused and separate (%d with NaN outputs)\n",
              configurations, with_nan_outputs);
  EXPECT_GT(with_nan_outputs, 10);
}

// The same at kernel level, for the naive Conv2d (the fallback when oneDNN
// refuses) and the oneDNN one: kernel with post_op == kernel, then the
// standalone activation kernel.
TEST(Fusion, ConvKernelsApplyThePostOpExactly) {
  std::mt19937 rng(77);
  int checked = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const ConvCase c = random_conv(rng);
    const bool leaky = trial % 2;
    const float slope = leaky ? std::array{0.01f, 0.0f, -2.0f, 0.3f}[trial / 2 % 4] : 0.0f;
    const std::string act_op = leaky ? "LeakyReLU" : "ReLU";
    const json act_attrs = leaky ? json{{"negative_slope", slope}} : json::object();
    testing::OpUnderTest conv = testing::make_op("Conv2d", c.conv, c.input);
    testing::OpUnderTest act = testing::make_op(act_op, act_attrs, conv.outputs[0].shape);
    ASSERT_TRUE(conv.op->accepts_post_op());
    const PostOp post = act.op->as_post_op();
    ASSERT_EQ(post.kind, leaky ? PostOp::LeakyReLU : PostOp::ReLU);
    ASSERT_EQ(bits(post.negative_slope), bits(slope));

    Tensor input = Tensor::empty(c.input);
    fill_awkward(input.f32(), input.numel(), rng);
    std::vector<Tensor> params;
    for (const ParamDecl& p : conv.op->params()) {
      params.push_back(Tensor::empty(p.shape));
      fill_awkward(params.back().f32(), params.back().numel(), rng, true);
    }
    for (Backend backend : {Backend::Naive, Backend::OneDnn}) {
      KernelConfig config;
      config.inputs = {input.desc()};
      config.outputs = conv.outputs;
      for (const Tensor& p : params) config.params.push_back(p.desc());
      config.backend = backend;
      std::unique_ptr<Kernel> plain = conv.op->make_kernel(config);
      config.post_op = post;
      std::unique_ptr<Kernel> fused = conv.op->make_kernel(config);
      ASSERT_EQ(plain->dispatch.forward, fused->dispatch.forward);

      auto run = [&](const Kernel& kernel) {
        std::unique_ptr<KernelState> state = kernel.make_state();
        Tensor out = Tensor::empty(conv.outputs[0].shape);
        std::vector<Tensor> outputs = {out};
        kernel.forward({std::span(&input, 1), params, outputs, state.get()});
        return out;
      };
      Tensor separate = run(*plain);
      Tensor activated = Tensor::empty(separate.shape());
      std::vector<Tensor> act_outputs = {activated};
      KernelConfig act_config{{separate.desc()}, {separate.desc()}, {}, Backend::Auto};
      act.op->make_kernel(act_config)->forward({std::span(&separate, 1), {}, act_outputs, nullptr});
      const Tensor got = run(*fused);
      const int64_t at = first_difference(got, activated);
      EXPECT_EQ(at, -1) << backend_name(backend) << " " << c.conv.dump() << " on " << to_string(c.input) << " "
                        << act_op << "(" << slope << "): element " << at;
      ++checked;
    }
  }
  std::printf("[ fusion   ] %d conv kernels with a post-op bit-identical to conv then activation\n", checked);
}

// The standalone element rules, pinned to PyTorch 1.13's bits:
// relu = clamp_min(x, 0) keeps NaN and -0.0; leaky_relu = x > 0 ? x : x * slope.
TEST(Fusion, ActivationRulesMatchPyTorchOnSpecialValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {nan, -0.0f, 0.0f, -1.0f, -inf, inf, 2.5f};
  auto apply = [&](const std::string& op, const json& attrs) {
    testing::OpUnderTest t = testing::make_op(op, attrs, {static_cast<int64_t>(x.size())});
    Tensor in = Tensor::empty({static_cast<int64_t>(x.size())}), out = Tensor::empty(in.shape());
    std::memcpy(in.f32(), x.data(), in.nbytes());
    std::vector<Tensor> outputs = {out};
    KernelConfig config{{in.desc()}, {in.desc()}, {}, Backend::Auto};
    t.op->make_kernel(config)->forward({std::span(&in, 1), {}, outputs, nullptr});
    std::vector<uint32_t> result;
    for (int64_t i = 0; i < out.numel(); ++i) result.push_back(bits(out.f32()[i]));
    return result;
  };
  // torch.relu(torch.tensor([nan, -0., 0., -1., -inf, inf, 2.5]))
  EXPECT_EQ(apply("ReLU", json::object()),
            (std::vector<uint32_t>{0x7fc00000, 0x80000000, 0, 0, 0, 0x7f800000, 0x40200000}));
  // torch.nn.functional.leaky_relu(..., 0.0): -1 * 0 = -0.0, -inf * 0 = NaN
  std::vector<uint32_t> leaky0 = apply("LeakyReLU", {{"negative_slope", 0.0}});
  EXPECT_EQ(leaky0[1], 0x80000000u);
  EXPECT_EQ(leaky0[3], 0x80000000u);
  EXPECT_TRUE(std::isnan(std::bit_cast<float>(leaky0[4])));
  // ... 0.2: -1 -> -0.2f, -inf -> -inf
  std::vector<uint32_t> leaky = apply("LeakyReLU", {{"negative_slope", 0.2}});
  EXPECT_EQ(leaky[3], bits(-0.2f));
  EXPECT_EQ(leaky[4], bits(-inf));
}

// Where fusion must not happen.
TEST(Fusion, OnlyWhereAllowed) {
  const ConvCase c = {{{"in_channels", 3}, {"out_channels", 8}, {"kernel_size", 3}, {"padding", 1}}, {2, 3, 9, 9}};
  const json conv = {{"name", "conv"}, {"op", "Conv2d"}, {"inputs", {"x"}}, {"outputs", {"y"}}, {"attrs", c.conv}};
  const json relu = activation_node("ReLU", 0);
  auto graph = [&](json nodes, json outputs) {
    json model = {{"format", "mininn/1"},
                  {"name", "t"},
                  {"inputs", {{{"name", "x"}, {"shape", c.input}}}},
                  {"nodes", nodes},
                  {"outputs", outputs}};
    return std::make_shared<const Graph>(parse_model(model.dump(), "test", "."));
  };
  auto fused = [&](const std::shared_ptr<const Graph>& g, CompileOptions options) {
    return CompiledGraph(g, {c.input}, options).fused_into(g->find_node("act"));
  };
  // The plain case fuses on auto and onednn.
  auto simple = graph({conv, relu}, {"a"});
  EXPECT_EQ(fused(simple, {Backend::Auto, false, false}), simple->find_node("conv"));
  EXPECT_EQ(fused(simple, {Backend::OneDnn, false, false}), simple->find_node("conv"));
  // Not with backward, nor on the naive backend.
  EXPECT_EQ(fused(simple, {Backend::Auto, false, true}), -1);
  EXPECT_EQ(fused(simple, {Backend::Naive, false, false}), -1);
  // Not when the conv output is a graph output as well.
  EXPECT_EQ(fused(graph({conv, relu}, {"a", "y"}), {Backend::Auto, false, false}), -1);
  // Not when another node reads the conv output too.
  json other = {{"name", "other"}, {"op", "Sigmoid"}, {"inputs", {"y"}}, {"outputs", {"s"}}};
  EXPECT_EQ(fused(graph({conv, relu, other}, {"a", "s"}), {Backend::Auto, false, false}), -1);
  // Not an activation other than ReLU / LeakyReLU.
  json sigmoid = {{"name", "act"}, {"op", "Sigmoid"}, {"inputs", {"y"}}, {"outputs", {"a"}}};
  EXPECT_EQ(fused(graph({conv, sigmoid}, {"a"}), {Backend::Auto, false, false}), -1);
  // Not into an op that cannot take a post-op (ReLU after ReLU).
  json second = {{"name", "act"}, {"op", "ReLU"}, {"inputs", {"r"}}, {"outputs", {"a"}}};
  json first = {{"name", "first"}, {"op", "ReLU"}, {"inputs", {"x"}}, {"outputs", {"r"}}};
  EXPECT_EQ(fused(graph({first, second}, {"a"}), {Backend::Auto, false, false}), -1);
}

}  // namespace
}  // namespace mininn
