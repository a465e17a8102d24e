// The JSON model loader: every rejected model gets a message naming where.
#include "framework/error.h"
#include "graph/graph.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace mininn {
namespace {

// A one-node model around `node` (a JSON object text) on a (1, 1, 6, 6) input.
std::string one_node(const std::string& node, const std::string& outputs = R"(["y"])") {
  return R"({"inputs": [{"name": "x", "shape": [1, 1, 6, 6]}], "nodes": [)" + node + R"(], "outputs": )" + outputs + "}";
}

void expect_error(const std::string& text, std::initializer_list<const char*> parts) {
  try {
    parse_model(text, "m.json", ".");
    ADD_FAILURE() << "expected an error for: " << text;
  } catch (const Error& e) {
    std::string message = e.what();
    for (const char* part : parts) EXPECT_NE(message.find(part), std::string::npos) << "missing '" << part << "' in: " << message;
  }
}

TEST(Loader, LoadsAValidModelAndInfersShapes) {
  Graph g = parse_model(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y", "i"],
                                     "attrs": {"kernel_size": 2, "return_indices": true}})",
                                 R"(["y", "i"])"),
                        "m.json", ".");
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(to_string(g.values[g.find_value("y")].desc), "float32[1, 1, 3, 3]");
  EXPECT_EQ(to_string(g.values[g.find_value("i")].desc), "int64[1, 1, 3, 3]");
  EXPECT_TRUE(g.values[g.find_value("y")].requires_grad);
  EXPECT_FALSE(g.values[g.find_value("i")].requires_grad);
}

TEST(Loader, InvalidJsonNamesTheFileAndPosition) {
  expect_error("{\"inputs\": [}", {"m.json", "invalid JSON", "line 1"});
}

TEST(Loader, TopLevelMustBeAnObject) { expect_error("[1, 2]", {"m.json", "must be a JSON object"}); }

TEST(Loader, UnknownTopLevelKeySuggestsTheRightOne) {
  expect_error(R"({"inputs": [], "nodez": [], "outputs": ["x"]})", {"m.json: nodez", "unknown key 'nodez'", "did you mean 'nodes'"});
}

TEST(Loader, MissingKeys) {
  expect_error(R"({"inputs": [], "outputs": ["x"]})", {"missing required key 'nodes'"});
  expect_error(R"({"inputs": [], "nodes": []})", {"missing required key 'outputs'"});
}

TEST(Loader, FormatMustBeKnown) {
  expect_error(R"({"format": "mininn/9", "inputs": [], "nodes": [], "outputs": ["x"]})", {"format", "mininn/9"});
}

TEST(Loader, InputShapeErrors) {
  expect_error(R"({"inputs": [{"name": "x", "shape": [1, -2]}], "nodes": [], "outputs": ["x"]})",
               {"inputs[0].shape[1]", "non-negative integer"});
  expect_error(R"({"inputs": [{"name": "x", "shape": [1, null]}], "nodes": [], "outputs": ["x"]})",
               {"inputs[0].shape[1]", "only the leading (batch) dimension may be null"});
  expect_error(R"({"inputs": [{"name": "x", "shape": [1], "dtype": "float16"}], "nodes": [], "outputs": ["x"]})",
               {"inputs[0].dtype", "float16"});
  expect_error(R"({"inputs": [{"name": "x", "shape": [1], "size": 3}], "nodes": [], "outputs": ["x"]})",
               {"inputs[0].size", "unknown key 'size'"});
}

TEST(Loader, HugeInputShapeIsRefusedBeforeAllocating) {
  expect_error(R"({"inputs": [{"name": "x", "shape": [4294967296, 4294967296, 4294967296]}], "nodes": [], "outputs": ["x"]})",
               {"overflows"});
  expect_error(R"({"inputs": [{"name": "x", "shape": [1000000, 1000000, 100]}], "nodes": [], "outputs": ["x"]})",
               {"over the limit"});
}

TEST(Loader, UnknownOpSuggestsTheTorchName) {
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2D", "inputs": ["x"], "outputs": ["y"]})"),
               {"nodes[0].op", "unknown op 'MaxPool2D'", "did you mean 'MaxPool2d'"});
}

TEST(Loader, UnknownAttributeSuggestsAndListsTheKnownOnes) {
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel": 2}})"),
               {"nodes[0].attrs.kernel", "node 'p' (MaxPool2d)", "unknown attribute 'kernel'", "did you mean 'kernel_size'",
                "ceil_mode"});
}

TEST(Loader, AttributeTypes) {
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": "2"}})"),
               {"nodes[0].attrs.kernel_size", "an int or a list of two ints"});
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": [2, 2, 2]}})"),
               {"nodes[0].attrs.kernel_size", "has 3 entries"});
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 2, "ceil_mode": 1}})"),
               {"nodes[0].attrs.ceil_mode", "true or false"});
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 2.5}})"),
               {"nodes[0].attrs.kernel_size"});
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"]})"),
               {"nodes[0].attrs", "missing required attribute 'kernel_size'"});
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 99999999999999999999}})"),
               {"nodes[0].attrs.kernel_size"});
}

TEST(Loader, StrideNullMeansKernelSize) {
  Graph g = parse_model(one_node(R"({"name": "p", "op": "AvgPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 3, "stride": null}})"),
                        "m.json", ".");
  EXPECT_EQ(to_string(g.values[g.find_value("y")].desc.shape), "[1, 1, 2, 2]");
}

TEST(Loader, DuplicateNames) {
  expect_error(R"({"inputs": [{"name": "x", "shape": [1, 1, 4, 4]}], "nodes": [
      {"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 2}},
      {"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["z"], "attrs": {"kernel_size": 2}}], "outputs": ["y"]})",
               {"nodes[1].name", "duplicate node name 'p'"});
  expect_error(R"({"inputs": [{"name": "x", "shape": [1, 1, 4, 4]}], "nodes": [
      {"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["x"], "attrs": {"kernel_size": 2}}], "outputs": ["x"]})",
               {"nodes[0].outputs[0]", "value 'x' is already defined at inputs[0].name"});
}

TEST(Loader, UndefinedInputSuggests) {
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["xx"], "outputs": ["y"], "attrs": {"kernel_size": 2}})"),
               {"nodes[0].inputs[0]", "input 'xx' is not a graph input or any node's output", "did you mean 'x'"});
}

TEST(Loader, UnknownOutput) {
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 2}})", R"(["z"])"),
               {"outputs[0]", "'z' is not a graph input"});
}

TEST(Loader, CycleIsNamed) {
  expect_error(R"({"inputs": [{"name": "x", "shape": [1, 1, 4, 4]}], "nodes": [
      {"name": "a", "op": "MaxPool2d", "inputs": ["b_out"], "outputs": ["a_out"], "attrs": {"kernel_size": 1}},
      {"name": "b", "op": "MaxPool2d", "inputs": ["a_out"], "outputs": ["b_out"], "attrs": {"kernel_size": 1}}], "outputs": ["a_out"]})",
               {"cycle", "'a'", "'b'"});
}

TEST(Loader, OutputCountFollowsReturnIndices) {
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y", "i"], "attrs": {"kernel_size": 2}})"),
               {"nodes[0].outputs", "produces 1 output", "return_indices"});
}

TEST(Loader, InputCount) {
  expect_error(one_node(R"({"name": "p", "op": "MaxUnpool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 2}})"),
               {"nodes[0].inputs", "MaxUnpool2d takes 2 inputs", "indices", "1 is given"});
}

TEST(Loader, ShapeRuleErrorsNameTheNode) {
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 2, "padding": 2}})"),
               {"m.json: nodes[0]: node 'p' (MaxPool2d)", "pad should be at most half of kernel size"});
  expect_error(one_node(R"({"name": "c", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"in_channels": 3, "out_channels": 2, "kernel_size": 3}})"),
               {"node 'c' (Conv2d)", "expected input[1, 1, 6, 6] to have 3 channels, but got 1 channels instead"});
  expect_error(one_node(R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 7}})"),
               {"Output size is too small"});
}

TEST(Loader, ConvConstructorRules) {
  expect_error(one_node(R"({"name": "c", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"in_channels": 1, "out_channels": 2, "kernel_size": 3, "groups": 2}})"),
               {"nodes[0].attrs.in_channels", "in_channels must be divisible by groups"});
  expect_error(one_node(R"({"name": "c", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"in_channels": 1, "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": "same"}})"),
               {"nodes[0].attrs.padding", "padding='same' is not supported for strided convolutions"});
  expect_error(one_node(R"({"name": "c", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": "full"}})"),
               {"nodes[0].attrs.padding", "invalid padding string 'full'"});
  expect_error(one_node(R"({"name": "c", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding_mode": "mirror"}})"),
               {"nodes[0].attrs.padding_mode", "must be one of {zeros, reflect, replicate, circular}"});
}

TEST(Loader, ParameterErrors) {
  const char* conv = R"({"name": "c", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"in_channels": 1, "out_channels": 1, "kernel_size": 2, "bias": false}, "params": %s})";
  auto with = [&](const std::string& params) {
    char buffer[1024];
    std::snprintf(buffer, sizeof buffer, conv, params.c_str());
    return one_node(buffer);
  };
  expect_error(with(R"({"bias": {"data": [1]}})"), {"nodes[0].params.bias", "Conv2d has no parameter 'bias'", "it has: weight"});
  expect_error(with(R"({"weight": {"data": [1, 2, 3]}})"), {"nodes[0].params.weight.data", "must be a list of 1 entries"});
  expect_error(with(R"({"weight": {"data": [[[[1, 2], [3, "a"]]]]}})"), {"nodes[0].params.weight.data[0][0][1][1]", "must be a number"});
  expect_error(with(R"({"weight": {"npy": "missing.npy"}})"), {"nodes[0].params.weight", "missing.npy"});
  expect_error(with(R"({"weight": {"init": "kaiming"}})"), {"nodes[0].params.weight.init", "unknown init 'kaiming'", "did you mean 'kaiming_uniform' or 'kaiming_normal'"});
  expect_error(with(R"({"weight": {"data": [1, 2, 3, 4], "init": "zeros"}})"), {"exactly one of"});
}

TEST(Loader, ParameterDataFlatNestedAndDefaultSlices) {
  const std::string base = R"({"name": "c", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"in_channels": 1, "out_channels": 2, "kernel_size": 1, "bias": false}, "params": )";
  Graph flat = parse_model(one_node(base + R"({"weight": {"data": [3, 4]}}})"), "m.json", ".");
  EXPECT_EQ(flat.params[0].tensor.f32()[0], 3.0f);
  EXPECT_EQ(flat.params[0].tensor.f32()[1], 4.0f);
  Graph defaults = parse_model(one_node(base + "{}}"), "m.json", ".");
  Graph partial = parse_model(one_node(base + R"({"weight": {"data": [[[[7]]], null]}}})"), "m.json", ".");
  EXPECT_EQ(partial.params[0].tensor.f32()[0], 7.0f);
  EXPECT_EQ(partial.params[0].tensor.f32()[1], defaults.params[0].tensor.f32()[1]);  // the default slice is kept
}

TEST(Loader, DeepJsonIsRefused) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  expect_error(R"({"inputs": [], "nodes": [], "outputs": ["x"], "name": )" + deep + "}", {"nested deeper than"});
}

TEST(Loader, MissingFile) {
  try {
    load_model("/nonexistent/model.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.json: no such model file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mininn

namespace mininn {
namespace {

TEST(Loader, InitSpecsDrawInParameterOrderNotKeyOrder) {
  auto conv = [](const std::string& params) {
    return one_node(R"({"name": "c", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"],
                        "attrs": {"in_channels": 1, "out_channels": 2, "kernel_size": 2}, "params": )" + params + "}");
  };
  Graph weight_only = parse_model(conv(R"({"weight": {"init": "normal"}})"), "m.json", ".");
  Graph both = parse_model(conv(R"({"bias": {"init": "normal"}, "weight": {"init": "normal"}})"), "m.json", ".");
  const Tensor &a = weight_only.params[0].tensor, &b = both.params[0].tensor;
  ASSERT_EQ(a.numel(), b.numel());
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.f32()[i], b.f32()[i]) << i;
  EXPECT_NE(both.params[1].tensor.f32()[0], weight_only.params[1].tensor.f32()[0]);  // the bias did draw
}

}  // namespace
}  // namespace mininn
