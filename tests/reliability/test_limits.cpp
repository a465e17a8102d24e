// Bounded resources: a hostile model is an Error before anything large is
// allocated — shape arithmetic that overflows, a tensor over
// max_tensor_bytes(), a model or compiled graph over max_graph_bytes(),
// JSON nested too deep or a file too large.
#include "framework/error.h"
#include "graph/executor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include <unistd.h>

namespace mininn {
namespace {

// Sets a limit for one test and restores the old one.
class GraphLimit {
 public:
  explicit GraphLimit(size_t bytes) : old_(max_graph_bytes()) { set_max_graph_bytes(bytes); }
  ~GraphLimit() { set_max_graph_bytes(old_); }

 private:
  size_t old_;
};

std::string message_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

void expect_parts(const std::string& message, std::initializer_list<const char*> parts) {
  for (const char* part : parts) EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}

std::string model(const std::string& input_shape, const std::string& nodes, const std::string& outputs) {
  return R"({"inputs": [{"name": "x", "shape": )" + input_shape + R"(}], "nodes": [)" + nodes +
         R"(], "outputs": )" + outputs + "}";
}

TEST(GraphLimit, ParametersOverTheLimitAreRefusedBeforeAllocation) {
  GraphLimit limit(1 << 20);
  // An 8 GB weight: each tensor is under the 16 GiB tensor limit, so only
  // the graph limit stops it — before default initialisation would fill it.
  std::string text = model("[1, 4096, 8, 8]",
                           R"({"name": "conv", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"],
                               "attrs": {"in_channels": 4096, "out_channels": 4096, "kernel_size": 11, "padding": 5}})",
                           R"(["y"])");
  expect_parts(message_of([&] { parse_model(text, "m.json", "."); }),
               {"m.json: the model needs ", "over the limit of 1048576 bytes per graph",
                "the largest part: parameter conv.weight float32[4096, 4096, 11, 11], 8120172544 bytes"});
}

TEST(GraphLimit, ManyValuesEachWithinTheTensorLimitAddUp) {
  std::string nodes;
  for (int i = 0; i < 40; ++i) {
    if (i) nodes += ",";
    nodes += R"({"name": "r)" + std::to_string(i) + R"(", "op": "ReLU", "inputs": [")" +
             (i ? "v" + std::to_string(i - 1) : std::string("x")) + R"("], "outputs": ["v)" + std::to_string(i) + R"("]})";
  }
  std::string text = model("[1, 1, 512, 512]", nodes, R"(["v39"])");  // 41 values of 1 MiB
  {
    GraphLimit limit(40 << 20);
    expect_parts(message_of([&] { parse_model(text, "m.json", "."); }), {"the model needs 42991616 bytes"});
  }
  GraphLimit limit(42 << 20);
  EXPECT_NO_THROW(parse_model(text, "m.json", "."));
}

TEST(GraphLimit, CompilingCountsTheConcreteBatchAndTheGradients) {
  auto graph = std::make_shared<const Graph>(
      parse_model(model("[null, 1, 256, 256]",
                        R"({"name": "pool", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 2}})",
                        R"(["y"])"),
                  "m.json", "."));
  // Batch 4: x is 1 MiB, y 256 KiB; with backward each has a gradient too.
  GraphLimit limit((1 << 20) + (256 << 10));
  EXPECT_NO_THROW(CompiledGraph(graph, {{4, 1, 256, 256}}, {Backend::Naive, false, false}));
  expect_parts(message_of([&] { CompiledGraph(graph, {{5, 1, 256, 256}}, {Backend::Naive, false, false}); }),
               {"the compiled graph needs 1638400 bytes", "the largest part: value 'x' float32[5, 1, 256, 256]"});
  expect_parts(message_of([&] { CompiledGraph(graph, {{4, 1, 256, 256}}, {Backend::Naive, false, true}); }),
               {"the compiled graph needs 2621440 bytes"});
}

// Attributes whose shape arithmetic would overflow int64 (undefined
// behaviour the sanitizer build would catch) or whose result no tensor could
// hold: an Error naming the node, with nothing allocated. Where PyTorch
// computes a valid size (a stride of INT64_MAX gives one window), the model
// loads and runs, forward and backward, without overflowing either.
TEST(ShapeArithmetic, HostileAttributesAreErrorsNotOverflows) {
  const std::string big = "4611686018427387903";  // 2^62 - 1
  const std::string huge = "9223372036854775807";  // INT64_MAX
  struct Case {
    std::string shape, node, expect;  // expect: a part of the error, or "ok"
  };
  const std::vector<Case> cases = {
      {"[1, 1, 8, 8]", R"({"op": "AdaptiveAvgPool2d", "inputs": ["x"], "attrs": {"output_size": )" + big + "}}", "overflow"},
      {"[1, 1, 8, 8]", R"({"op": "AdaptiveMaxPool2d", "inputs": ["x"], "attrs": {"output_size": [)" + big + ", 1]}}", "overflows int64"},
      {"[1, 1, 8]", R"({"op": "MaxPool1d", "inputs": ["x"], "attrs": {"kernel_size": )" + big + R"(, "dilation": 4}})", "2^62"},
      {"[1, 1, 8]", R"({"op": "MaxPool1d", "inputs": ["x"], "attrs": {"kernel_size": 2, "padding": 1, "stride": )" + huge + R"(, "ceil_mode": true}})", "ok"},
      {"[1, 1, 8]", R"({"op": "AvgPool1d", "inputs": ["x"], "attrs": {"kernel_size": )" + huge + R"(, "padding": )" + big + "}}", "2^62"},
      {"[1, 1, 8]", R"({"op": "AvgPool1d", "inputs": ["x"], "attrs": {"kernel_size": 3, "padding": 1, "stride": )" + huge + "}}", "ok"},
      {"[1, 1, 8]", R"({"op": "LPPool1d", "inputs": ["x"], "attrs": {"norm_type": 2, "kernel_size": )" + huge + "}}", "2^62"},
      {"[1, 1, 8]", R"({"op": "MaxUnpool1d", "inputs": ["x", "i"], "attrs": {"kernel_size": )" + big + R"(, "stride": )" + big + "}}", "overflows int64"},
      {"[1, 1, 4, 4]", R"({"op": "Conv2d", "inputs": ["x"], "attrs": {"in_channels": 1, "out_channels": 1, "kernel_size": 1, "padding": )" + big + "}}", "overflow"},
      {"[1, 1, 4, 4]", R"({"op": "Conv2d", "inputs": ["x"], "attrs": {"in_channels": 1, "out_channels": 1, "kernel_size": )" + big + R"(, "dilation": )" + big + "}}", "overflow"},
      {"[1, 1, 4, 4]", R"({"op": "Conv2d", "inputs": ["x"], "attrs": {"in_channels": 1, "out_channels": )" + big + R"(, "kernel_size": )" + big + "}}", "overflow"},
      {"[1, 1, 4, 4]", R"({"op": "Conv2d", "inputs": ["x"], "attrs": {"in_channels": 1, "out_channels": 1, "kernel_size": )" + big + R"(, "dilation": 3, "padding": "same"}})", "overflow"},
      {"[1, 1, 4, 4]", R"({"op": "Conv2d", "inputs": ["x"], "attrs": {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "stride": )" + huge + "}}", "ok"},
      {"[1, 4]", R"({"op": "Linear", "inputs": ["x"], "attrs": {"in_features": 4, "out_features": )" + big + "}}", "overflow"},
      {"[1, 2, 2, 2]", R"({"op": "BatchNorm2d", "inputs": ["x"], "attrs": {"num_features": )" + huge + "}}", "num_features"},
      {"[1, 1, 8, 8]", R"({"op": "FractionalMaxPool2d", "inputs": ["x"], "attrs": {"kernel_size": )" + big + R"(, "output_size": 2}})", "fractional"},
      {"[1, 1, 8, 8]", R"({"op": "FractionalMaxPool2d", "inputs": ["x"], "attrs": {"kernel_size": 2, "output_size": )" + big + "}}", "fractional"},
  };
  for (const Case& c : cases) {
    // An int64 input "i" shaped like x, for the unpool's indices.
    std::string node = R"({"name": "n", "outputs": ["y"], )" + c.node.substr(1);
    std::string text = R"({"inputs": [{"name": "x", "shape": )" + c.shape + R"(}, {"name": "i", "shape": )" + c.shape +
                       R"(, "dtype": "int64", "requires_grad": false}], "nodes": [)" + node + R"(], "outputs": ["y"]})";
    std::string message = message_of([&] {
      auto graph = std::make_shared<const Graph>(parse_model(text, "m.json", "."));
      CompiledGraph plan(graph, {}, {Backend::Naive, false, true});
    });
    if (c.expect != "ok") {
      EXPECT_NE(message.find("node 'n'"), std::string::npos) << text << "\n  -> " << message;
      EXPECT_NE(message.find(c.expect), std::string::npos) << text << "\n  -> " << message;
      continue;
    }
    auto graph = std::make_shared<const Graph>(parse_model(text, "m.json", "."));
    Shape shape = graph->values[graph->inputs[0].value].desc.shape;
    CompiledGraph plan(graph, {shape, shape}, {Backend::Naive, false, true});
    Execution run(plan);
    Tensor x = Tensor::full(shape, 1.0f), i = Tensor::zeros(shape, DType::Int64);
    run.forward({x, i});
    run.backward({});
    EXPECT_EQ(run.output(0).numel(), graph->values[graph->outputs[0]].desc.shape.back()) << text;
  }
}

TEST(Json, DeepNestingIsRefusedWithoutRecursion) {
  std::string deep = R"({"inputs": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_parts(message_of([&] { parse_model(deep, "deep.json", "."); }), {"deep.json: JSON nested deeper than 64 levels"});
}

TEST(Json, AModelFileOverTheSizeLimitIsNotRead) {
  std::string path = (std::filesystem::temp_directory_path() / ("mininn-huge-" + std::to_string(::getpid()) + ".json")).string();
  { std::ofstream(path) << "{"; }
  std::filesystem::resize_file(path, (size_t{256} << 20) + 1);  // sparse: nothing is written
  std::string message = message_of([&] { load_model(path); });
  std::filesystem::remove(path);
  expect_parts(message, {"the model file is 268435457 bytes, over the limit of 268435456"});
}

}  // namespace
}  // namespace mininn
