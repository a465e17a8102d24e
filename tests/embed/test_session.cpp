// Sessions: caller memory used in place, outputs written into caller memory,
// named inputs, gradients and parameters by name, and every misuse an Error.
#include <mininn/mininn.h>

#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace {

using mininn::Model;
using mininn::Session;
using mininn::Tensor;

// y = conv1x1(x) = w*x + b, one channel; `x` itself is an output too.
const char* kAffine = R"({
  "name": "affine",
  "inputs": [ {"name": "x", "shape": [1, 1, 2, 3]}, {"name": "frozen", "shape": [1, 1, 2, 3], "requires_grad": false},
              {"name": "labels", "shape": [2], "dtype": "int64"} ],
  "nodes": [
    {"name": "conv", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"],
     "attrs": {"in_channels": 1, "out_channels": 1, "kernel_size": 1},
     "params": {"weight": {"data": [[[[3]]]]}, "bias": {"data": [0.5]}}},
    {"name": "pool", "op": "MaxPool2d", "inputs": ["frozen"], "outputs": ["pooled", "where"],
     "attrs": {"kernel_size": [1, 3], "return_indices": true}}
  ],
  "outputs": ["y", "x", "pooled", "where", "labels"]
})";

std::vector<Tensor> affine_inputs(std::vector<float>& x, std::vector<float>& frozen, std::vector<int64_t>& labels) {
  return {Tensor::wrap(std::span(x), {1, 1, 2, 3}), Tensor::wrap(std::span(frozen), {1, 1, 2, 3}),
          Tensor::wrap(std::span(labels), {2})};
}

TEST(Session, CallerMemoryIsUsedInPlaceNotCopied) {
  Session s = Model::parse(kAffine).compile();
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, frozen(6, 0.0f);
  std::vector<int64_t> labels = {4, 2};
  s.forward(affine_inputs(x, frozen, labels));
  // An input that is also an output comes back as the very same memory.
  EXPECT_EQ(s.output("x").raw(), x.data());
  EXPECT_EQ(s.output("labels").raw(), labels.data());
  EXPECT_EQ(s.output("y").floats()[5], 18.5f);
  // The wrapped memory is read when forward runs, not when it was wrapped.
  x[5] = -1;
  s.forward(affine_inputs(x, frozen, labels));
  EXPECT_EQ(s.output("y").floats()[5], -2.5f);
  EXPECT_EQ(s.output("x").raw(), x.data());
}

TEST(Session, BoundOutputsAreWrittenIntoCallerMemory) {
  Session s = Model::parse(kAffine).compile();
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, frozen = {1, 9, 2, 3, 7, 4}, y(6, -100.0f);
  std::vector<int64_t> labels = {0, 1}, where(2, -1);
  s.bind_output("y", Tensor::wrap(std::span(y), {1, 1, 2, 3}));
  s.bind_output("where", Tensor::wrap(std::span(where), {1, 1, 2, 1}));
  s.forward(affine_inputs(x, frozen, labels));
  EXPECT_EQ(y, (std::vector<float>{3.5f, 6.5f, 9.5f, 12.5f, 15.5f, 18.5f}));
  EXPECT_EQ(where, (std::vector<int64_t>{1, 4}));  // flat offsets in the 2x3 plane
  EXPECT_EQ(s.output("y").raw(), y.data());
  EXPECT_THROW(s.bind_output("y", Tensor::zeros({6})), mininn::Error);          // wrong shape
  EXPECT_THROW(s.bind_output("where", Tensor::zeros({1, 1, 2, 1})), mininn::Error);  // wrong dtype
}

TEST(Session, NamedInputsInAnyOrder) {
  Session s = Model::parse(kAffine).compile();
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, frozen(6, 0.0f);
  std::vector<int64_t> labels = {0, 1};
  auto in = affine_inputs(x, frozen, labels);
  s.forward({{"labels", in[2]}, {"x", in[0]}, {"frozen", in[1]}});
  EXPECT_EQ(s.output(0).floats()[0], 3.5f);
  EXPECT_THROW(s.forward({{"x", in[0]}, {"frozen", in[1]}}), mininn::Error);  // labels missing
  EXPECT_THROW(s.forward({{"x", in[0]}, {"x", in[0]}, {"frozen", in[1]}, {"labels", in[2]}}), mininn::Error);
  try {
    s.forward({{"X", in[0]}, {"frozen", in[1]}, {"labels", in[2]}});
    FAIL();
  } catch (const mininn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'x'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(s.forward({in[0], in[1]}), mininn::Error);  // too few
}

TEST(Session, GradientsAndParametersByName) {
  Model model = Model::parse(kAffine);
  Session s = model.compile({.backward = true});
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, frozen(6, 0.0f);
  std::vector<int64_t> labels = {0, 1};
  s.forward(affine_inputs(x, frozen, labels));
  s.backward();  // ones into every float output
  // d(sum y)/dw = sum x, d/db = 6; d/dx = w (through y) + 1 (x is an output itself).
  EXPECT_EQ(s.param_grad("conv.weight").floats()[0], 21.0f);
  EXPECT_EQ(s.param_grad("conv.bias").floats()[0], 6.0f);
  for (float g : s.grad("x").floats()) EXPECT_EQ(g, 4.0f);
  EXPECT_EQ(model.parameter("conv.weight").floats()[0], 3.0f);

  // Only the listed outputs, from the given gradients.
  std::vector<float> upstream = {1, 0, 0, 0, 0, 2};
  s.backward({{"y", Tensor::wrap(std::span(upstream), {1, 1, 2, 3})}});
  EXPECT_EQ(s.param_grad("conv.weight").floats()[0], 1.0f + 12.0f);
  EXPECT_EQ(s.grad("x").floats()[5], 6.0f);
  EXPECT_EQ(s.grad("x").floats()[1], 0.0f);
  EXPECT_EQ(s.grad("y").floats()[5], 2.0f);

  auto fails = [](auto&& call, const char* words) {
    try {
      call();
      ADD_FAILURE() << "no error; expected: " << words;
    } catch (const mininn::Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  fails([&] { s.param_grad("conv.wieght"); }, "did you mean 'conv.weight'");
  fails([&] { s.grad("where"); }, "int64");
  fails([&] { s.grad("frozen"); }, "requires_grad false");
  fails([&] { s.grad("nothing"); }, "no input or output");
  fails([&] { s.output("nothing"); }, "no output");
  fails([&] { s.backward({{"frozen", Tensor::zeros({1, 1, 2, 3})}}); }, "not an output");
  fails([&] { s.backward({{"y", Tensor::zeros({6})}}); }, "must be float32[1, 1, 2, 3]");
  fails([&] { model.parameter("conv"); }, "no parameter 'conv'");
}

TEST(Session, SetParameterReachesCompiledSessions) {
  Model model = Model::parse(kAffine);
  Session s = model.compile();
  Tensor w = model.parameter("conv.weight");
  w.floats()[0] = 10;  // a copy: the model is unchanged ...
  std::vector<float> x = {1, 2, 3, 4, 5, 6}, frozen(6, 0.0f);
  std::vector<int64_t> labels = {0, 1};
  s.forward(affine_inputs(x, frozen, labels));
  EXPECT_EQ(s.output("y").floats()[0], 3.5f);
  model.set_parameter("conv.weight", w);  // ... until set
  s.forward(affine_inputs(x, frozen, labels));
  EXPECT_EQ(s.output("y").floats()[0], 10.5f);
  EXPECT_EQ(model.parameters()[0].source, "set_parameter");
  EXPECT_THROW(model.set_parameter("conv.weight", Tensor::zeros({2})), mininn::Error);
}

TEST(Session, MisuseIsAnError) {
  Model model = Model::parse(kAffine);
  Session s = model.compile();
  std::vector<float> x(6), frozen(6), big(12);
  std::vector<int64_t> labels(2);
  EXPECT_THROW(s.output(0), mininn::Error);  // before forward
  EXPECT_THROW(s.output(9), mininn::Error);
  try {
    s.forward({Tensor::wrap(std::span(big), {1, 1, 4, 3}), Tensor::wrap(std::span(frozen), {1, 1, 2, 3}),
               Tensor::wrap(std::span(labels), {2})});
    FAIL();
  } catch (const mininn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 'x': expected float32[1, 1, 2, 3], but got float32[1, 1, 4, 3]"),
              std::string::npos)
        << e.what();
  }
  s.forward(affine_inputs(x, frozen, labels));
  try {
    s.backward();
    FAIL();
  } catch (const mininn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("SessionOptions::backward"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model.compile({.input_shapes = {{1, 1, 2, 3}}}), mininn::Error);  // three inputs
  EXPECT_THROW(Tensor::wrap(std::span(big), {1, 1, 2, 3}), mininn::Error);        // 12 values for 6
  EXPECT_THROW(Tensor::wrap(nullptr, {2}, mininn::DType::Float32), mininn::Error);
  EXPECT_THROW(Tensor::wrap(big.data(), {mininn::kDynamic, 3}, mininn::DType::Float32), mininn::Error);
}

TEST(Session, CompileChoosesShapesAndBackends) {
  Model model = Model::parse(R"({"inputs": [{"name": "x", "shape": [null, 3, 8, 8]}],
    "nodes": [{"name": "p", "op": "AdaptiveAvgPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"output_size": 3}}],
    "outputs": ["y"]})");
  EXPECT_EQ(model.inputs()[0].shape, (mininn::Shape{mininn::kDynamic, 3, 8, 8}));
  Session by_batch = model.compile({.batch = 5});
  EXPECT_EQ(by_batch.inputs()[0].shape, (mininn::Shape{5, 3, 8, 8}));
  EXPECT_EQ(by_batch.outputs()[0].shape, (mininn::Shape{5, 3, 3, 3}));
  Session by_shape = model.compile({.input_shapes = {{2, 3, 8, 8}}, .backend = mininn::Backend::Naive});
  EXPECT_EQ(by_shape.outputs()[0].shape, (mininn::Shape{2, 3, 3, 3}));
  std::vector<mininn::NodeInfo> nodes = by_shape.nodes();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].op, "AdaptiveAvgPool2d");
  EXPECT_EQ(nodes[0].forward_backend, "naive");
  EXPECT_EQ(nodes[0].fallback_reason, "naive backend requested");
  // 8 -> 3 windows overlap: oneDNN cannot give PyTorch's result, and says why.
  std::vector<mininn::NodeInfo> automatic = by_batch.nodes();
  EXPECT_EQ(automatic[0].forward_backend, "naive");
  EXPECT_FALSE(automatic[0].fallback_reason.empty());
  EXPECT_THROW(model.compile({.input_shapes = {{2, 4, 8, 8}}}), mininn::Error);
}

TEST(Session, ForkedSessionsRunOnTheirOwnThreads) {
  Model model = Model::parse(R"({"inputs": [{"name": "x", "shape": [1, 2, 16, 16]}],
    "nodes": [{"name": "c", "op": "Conv2d", "inputs": ["x"], "outputs": ["f"],
               "attrs": {"in_channels": 2, "out_channels": 4, "kernel_size": 3}},
              {"name": "p", "op": "MaxPool2d", "inputs": ["f"], "outputs": ["y"], "attrs": {"kernel_size": 2}}],
    "outputs": ["y"]})");
  Session first = model.compile({.backward = true});
  std::vector<Session> sessions;
  for (int i = 0; i < 3; ++i) sessions.push_back(first.fork());
  std::vector<std::vector<float>> results(sessions.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < sessions.size(); ++i)
    threads.emplace_back([&, i] {
      Tensor x = Tensor::empty({1, 2, 16, 16});
      std::iota(x.floats().begin(), x.floats().end(), 0.0f);
      for (int repeat = 0; repeat < 5; ++repeat) {
        sessions[i].forward({x});
        sessions[i].backward();
      }
      Tensor g = sessions[i].param_grad("c.weight");
      results[i].assign(g.floats().begin(), g.floats().end());
    });
  for (std::thread& t : threads) t.join();
  for (size_t i = 1; i < results.size(); ++i) EXPECT_EQ(results[i], results[0]);
  EXPECT_THROW(first.output(0), mininn::Error);  // forks have their own buffers
}

TEST(Model, LoadsFilesAndJsonValues) {
  Model seed = Model::load(MININN_SOURCE_DIR "/examples/seed/seed.json");
  EXPECT_EQ(seed.name(), "seed");
  EXPECT_EQ(seed.parameters()[0].name, "conv.weight");
  EXPECT_EQ(seed.parameters()[0].source, "data");

  struct FakeJson {  // any JSON library whose values have dump()
    std::string dump() const {
      return R"({"inputs": [{"name": "x", "shape": [4]}], "nodes": [], "outputs": ["x"]})";
    }
  };
  EXPECT_EQ(Model::from_json(FakeJson{}).inputs()[0].shape, (mininn::Shape{4}));

  try {
    Model::load("/nonexistent/model.json");
    FAIL();
  } catch (const mininn::Error& e) {  // caught by type across the shared library
    EXPECT_NE(std::string(e.what()).find("no such model file"), std::string::npos);
  }
  try {
    Model::parse(R"({"inputs": [{"name": "x", "shape": [1, 1, 4, 4]}],
                    "nodes": [{"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"],
                    "attrs": {"kernel_size": 2, "padding": 2}}], "outputs": ["y"]})",
                 "net.json");
    FAIL();
  } catch (const mininn::Error& e) {
    EXPECT_EQ(e.where().path, "net.json: nodes[0]") << e.what();  // a shape rule: the node
    EXPECT_EQ(e.where().node, "p");
    EXPECT_EQ(e.where().op, "MaxPool2d");
  }
}

TEST(Session, DotShowsShapesAndBackends) {
  Session s = Model::load(MININN_SOURCE_DIR "/examples/seed/seed.json").compile({.backward = true});
  std::string dot = s.dot();
  EXPECT_EQ(dot.rfind("digraph \"seed\" {", 0), 0u) << dot;
  for (const char* part : {"image\\nfloat32[1, 1, 427, 640]", "conv\\nConv2d\\nweight [2, 1, 5, 5]",
                           "features\\nfloat32[1, 2, 423, 636]", "adaptive\\nfloat32[1, 2, 100, 100]", "naive: "})
    EXPECT_NE(dot.find(part), std::string::npos) << part << " missing in:\n" << dot;
  EXPECT_EQ(dot.back(), '\n');
}

TEST(Version, HeadersMatchTheLibrary) { EXPECT_STREQ(mininn::version(), MININN_VERSION_STRING); }

}  // namespace

namespace {

// Training from C++: gradients by name, plain SGD through set_parameter.
TEST(Session, SgdThroughTheApiLowersTheLoss) {
  mininn::ModelBuilder net("regression");
  net.seed(1);
  net.input("x", {8, 4}).input("target", {8, 1}, {.requires_grad = false});
  net.add("fc", "Linear", {"x"}, {"y"}, {{"in_features", 4}, {"out_features", 1}});
  net.add("loss", "MSELoss", {"y", "target"}, {"loss"});
  net.output("loss");
  Model model = net.build();
  Session session = model.compile({.backward = true});

  Tensor x = Tensor::empty({8, 4}), target = Tensor::empty({8, 1});
  for (int64_t i = 0; i < 32; ++i) x.floats()[i] = static_cast<float>((i * 5) % 7) - 3.0f;
  for (int64_t n = 0; n < 8; ++n)  // target = x . (1, -2, 0.5, 3) + 1
    target.floats()[n] = x.floats()[n * 4] - 2 * x.floats()[n * 4 + 1] + 0.5f * x.floats()[n * 4 + 2] +
                         3 * x.floats()[n * 4 + 3] + 1;
  std::vector<float> losses;
  for (int step = 0; step < 50; ++step) {
    session.forward({x, target});
    losses.push_back(session.output("loss").floats()[0]);
    session.backward();
    for (const mininn::ParameterInfo& p : model.parameters()) {
      Tensor value = model.parameter(p.name);
      Tensor grad = session.param_grad(p.name);
      for (int64_t i = 0; i < value.numel(); ++i) value.floats()[i] -= 0.02f * grad.floats()[i];
      model.set_parameter(p.name, value);
    }
  }
  EXPECT_LT(losses.back(), losses.front() * 0.05f) << losses.front() << " -> " << losses.back();
}

}  // namespace
