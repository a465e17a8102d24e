// The memory planner (CompiledGraph::plan_memory): intermediates share one
// arena by lifetime. Random graphs must give the bits of the same graph with
// every value kept (a backward compile); two values alive at the same step
// must never overlap; and a second run must reuse every buffer.
#include "graph/executor.h"
#include "graph/graph.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace mininn {
namespace {

using nlohmann::json;

// A random DAG of shape-keeping elementwise ops and pools over one input:
// each node reads one or two earlier values (so some values have several
// readers and long lifetimes); a few values are graph outputs.
json random_model(std::mt19937& rng, int nodes) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  json model = {{"format", "mininn/1"}, {"seed", 0}, {"inputs", json::array({{{"name", "x"}, {"shape", {2, 3, 16, 16}}}})}};
  std::vector<std::string> values = {"x"};
  json list = json::array();
  for (int n = 0; n < nodes; ++n) {
    std::string input = values[pick(std::max(0, static_cast<int>(values.size()) - 4), static_cast<int>(values.size()) - 1)];
    if (pick(0, 3) == 0) input = values[pick(0, static_cast<int>(values.size()) - 1)];  // a long-lived reader
    std::string out = fmt::format("v{}", n);
    json node = {{"name", fmt::format("n{}", n)}, {"inputs", {input}}, {"outputs", {out}}};
    switch (pick(0, 4)) {
      case 0: node["op"] = "Sigmoid"; break;
      case 1: node["op"] = "Tanh"; break;
      case 2: node["op"] = "LeakyReLU"; node["attrs"] = {{"negative_slope", 0.1}}; break;
      case 3: node["op"] = "MaxPool2d"; node["attrs"] = {{"kernel_size", 3}, {"stride", 1}, {"padding", 1}}; break;
      default: node["op"] = "AvgPool2d"; node["attrs"] = {{"kernel_size", 3}, {"stride", 1}, {"padding", 1}}; break;
    }
    list.push_back(node);
    values.push_back(out);
  }
  model["nodes"] = list;
  json outputs = {values.back()};
  for (size_t v = 1; v + 1 < values.size(); ++v)
    if (pick(0, 5) == 0) outputs.push_back(values[v]);
  model["outputs"] = outputs;
  return model;
}

Tensor random_input(std::mt19937& rng) {
  Tensor x = Tensor::empty({2, 3, 16, 16});
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  for (float& f : x.floats()) f = value(rng);
  return x;
}

struct Span {
  const std::byte* begin;
  const std::byte* end;
};

Span span_of(const Tensor& t) {
  const auto* p = static_cast<const std::byte*>(t.raw());
  return {p, p + t.nbytes()};
}

TEST(MemoryPlan, RandomGraphsGiveTheBitsOfUnplannedRunsAndLiveValuesNeverOverlap) {
  std::mt19937 rng(20261125);
  int shrank = 0;
  for (int trial = 0; trial < 40; ++trial) {
    SCOPED_TRACE(fmt::format("trial {}", trial));
    json model = random_model(rng, 4 + trial % 12);
    auto graph = std::make_shared<const Graph>(parse_model(model.dump(), "test", "."));
    const Graph& g = *graph;
    Tensor x = random_input(rng);

    CompiledGraph planned(graph, {x.shape()}, {Backend::Auto, false, false});
    CompiledGraph kept(graph, {x.shape()}, {Backend::Auto, false, true});
    const MemoryPlan& m = planned.memory();
    EXPECT_LE(m.arena_bytes, m.unplanned_bytes);
    EXPECT_EQ(kept.memory().arena_bytes, kept.memory().unplanned_bytes);  // nothing may share with backward
    shrank += m.arena_bytes < m.unplanned_bytes;

    Execution a(planned), b(kept);
    a.forward({x});
    b.forward({x});
    for (size_t i = 0; i < g.outputs.size(); ++i) {
      Tensor got = a.output(i), want = b.output(i);
      ASSERT_EQ(got.desc(), want.desc());
      EXPECT_EQ(std::memcmp(got.raw(), want.raw(), got.nbytes()), 0) << "output " << g.values[g.outputs[i]].name;
    }

    // Lifetimes from the schedule; every pair alive at one step is disjoint.
    std::vector<int> first(g.values.size(), -1), last(g.values.size(), -1);
    for (size_t step = 0; step < g.schedule.size(); ++step) {
      const Node& node = g.nodes[g.schedule[step]];
      for (int v : node.outputs) first[v] = last[v] = static_cast<int>(step);
      for (int v : node.inputs) last[v] = std::max(last[v], static_cast<int>(step));
    }
    for (size_t v = 0; v < g.values.size(); ++v)
      for (size_t w = v + 1; w < g.values.size(); ++w) {
        if (first[v] < 0 || first[w] < 0 || first[v] > last[w] || first[w] > last[v]) continue;
        Span p = span_of(a.value(static_cast<int>(v))), q = span_of(a.value(static_cast<int>(w)));
        EXPECT_TRUE(p.end <= q.begin || q.end <= p.begin)
            << g.values[v].name << " and " << g.values[w].name << " are alive together but share memory";
      }
  }
  EXPECT_GT(shrank, 20);  // the planner must actually save memory on most of them
}

TEST(MemoryPlan, ASecondRunReusesEveryBufferUnlessTheCallerHoldsAnOutput) {
  const char* text = R"({"format": "mininn/1", "inputs": [{"name": "x", "shape": [1, 2, 32, 32]}],
    "nodes": [
      {"name": "conv", "op": "Conv2d", "inputs": ["x"], "outputs": ["c"],
       "attrs": {"in_channels": 2, "out_channels": 4, "kernel_size": 3, "padding": 1}},
      {"name": "act", "op": "Sigmoid", "inputs": ["c"], "outputs": ["s"]},
      {"name": "pool", "op": "MaxPool2d", "inputs": ["s"], "outputs": ["p"], "attrs": {"kernel_size": 2}},
      {"name": "act2", "op": "Tanh", "inputs": ["p"], "outputs": ["y"]}],
    "outputs": ["y"]})";
  auto graph = std::make_shared<const Graph>(parse_model(text, "test", "."));
  std::mt19937 rng(7);
  Tensor x = Tensor::empty({1, 2, 32, 32});
  for (float& f : x.floats()) f = std::uniform_real_distribution<float>(-1, 1)(rng);
  CompiledGraph plan(graph, {x.shape()}, {Backend::Auto, false, false});
  Execution run(plan);

  run.forward({x});
  std::vector<const void*> before;
  for (size_t v = 0; v < graph->values.size(); ++v) before.push_back(run.value(static_cast<int>(v)).raw());
  Tensor first = run.output(0).clone();
  run.forward({x});
  for (size_t v = 0; v < graph->values.size(); ++v)
    EXPECT_EQ(run.value(static_cast<int>(v)).raw(), before[v]) << graph->values[v].name << " moved";

  Tensor held = run.output(0);  // the caller keeps this one: the next run must not write into it
  run.forward({x});
  EXPECT_NE(run.output(0).raw(), held.raw());
  EXPECT_EQ(std::memcmp(held.raw(), first.raw(), first.nbytes()), 0);
  EXPECT_EQ(std::memcmp(run.output(0).raw(), first.raw(), first.nbytes()), 0);
}

TEST(MemoryPlan, BackwardReusesGradientBuffersAndStillSumsFanOut) {
  // x feeds two nodes (its gradient is a sum); the second backward must give
  // the same gradients from the same buffers.
  const char* text = R"({"format": "mininn/1", "inputs": [{"name": "x", "shape": [1, 2, 8, 8]}],
    "nodes": [
      {"name": "a", "op": "Sigmoid", "inputs": ["x"], "outputs": ["s"]},
      {"name": "b", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["m"], "attrs": {"kernel_size": 2}},
      {"name": "c", "op": "AvgPool2d", "inputs": ["s"], "outputs": ["p"], "attrs": {"kernel_size": 2}}],
    "outputs": ["p", "m"]})";
  auto graph = std::make_shared<const Graph>(parse_model(text, "test", "."));
  std::mt19937 rng(3);
  Tensor x = Tensor::empty({1, 2, 8, 8});
  for (float& f : x.floats()) f = std::uniform_real_distribution<float>(-1, 1)(rng);
  CompiledGraph plan(graph, {x.shape()}, {Backend::Auto, false, true});
  Execution run(plan);
  const int xv = graph->find_value("x");

  run.forward({x});
  run.backward({});
  Tensor want = run.grad(xv).clone();
  const void* buffer = run.grad(xv).raw();
  // d/dx of sum(avgpool(sigmoid x)) + sum(maxpool x), by hand: the max
  // pool's part is 1 at each window's maximum and 0 elsewhere.
  float max_part = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    float s = 1.0f / (1.0f + std::exp(-x.f32()[i]));
    float rest = want.f32()[i] - 0.25f * s * (1 - s);
    EXPECT_TRUE(std::abs(rest) < 1e-6f || std::abs(rest - 1) < 1e-6f) << "element " << i << ": " << rest;
    max_part += rest;
  }
  EXPECT_NEAR(max_part, 2.0f * 4 * 4, 1e-4);  // one maximum per 2x2 window: 16 windows per channel

  run.forward({x});
  run.backward({});
  EXPECT_EQ(run.grad(xv).raw(), buffer);
  EXPECT_EQ(std::memcmp(run.grad(xv).raw(), want.raw(), want.nbytes()), 0);
}

}  // namespace
}  // namespace mininn
