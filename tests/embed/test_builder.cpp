// The builder and the JSON loader give the same model, the same numbers and
// the same errors; the builder throws from the call that made the mistake.
#include <mininn/mininn.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <functional>
#include <string>
#include <vector>

namespace {

using mininn::Model;
using mininn::ModelBuilder;
using mininn::Session;
using mininn::Tensor;

// Every kind of entry a model has: a dynamic batch, an int64-free chain of
// conv and pools with indices and unpooling, default init from the seed, an
// explicit parameter value and an init spec.
const char* kModelJson = R"({
  "format": "mininn/1", "name": "both", "seed": 7,
  "inputs": [ {"name": "image", "shape": [null, 2, 9, 9]} ],
  "nodes": [
    {"name": "conv", "op": "Conv2d", "inputs": ["image"], "outputs": ["features"],
     "attrs": {"in_channels": 2, "out_channels": 3, "kernel_size": [3, 2], "padding": 1},
     "params": {"bias": {"data": [0.5, -0.25, 1.0]}}},
    {"name": "pool", "op": "MaxPool2d", "inputs": ["features"], "outputs": ["pooled", "argmax"],
     "attrs": {"kernel_size": 2, "stride": 2, "return_indices": true, "ceil_mode": true}},
    {"name": "unpool", "op": "MaxUnpool2d", "inputs": ["pooled", "argmax"], "outputs": ["restored"],
     "attrs": {"kernel_size": 2, "stride": 2, "output_size": [9, 10]}},
    {"name": "avg", "op": "AvgPool2d", "inputs": ["features"], "outputs": ["smooth"],
     "attrs": {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": false}},
    {"name": "head", "op": "Conv2d", "inputs": ["smooth"], "outputs": ["logits"],
     "attrs": {"in_channels": 3, "out_channels": 2, "kernel_size": 1},
     "params": {"weight": {"init": "kaiming_normal", "mode": "fan_out", "nonlinearity": "relu"}}},
    {"name": "squeeze", "op": "AdaptiveMaxPool2d", "inputs": ["restored"], "outputs": ["summary"],
     "attrs": {"output_size": [2, null]}}
  ],
  "outputs": ["pooled", "argmax", "restored", "logits", "summary"]
})";

ModelBuilder make_builder() {
  ModelBuilder net("both");
  net.seed(7);
  net.input("image", {mininn::kDynamic, 2, 9, 9});
  net.add("conv", "Conv2d", {"image"}, {"features"},
          {{"in_channels", 2}, {"out_channels", 3}, {"kernel_size", {3, 2}}, {"padding", 1}});
  net.add("pool", "MaxPool2d", {"features"}, {"pooled", "argmax"},
          {{"kernel_size", 2}, {"stride", 2}, {"return_indices", true}, {"ceil_mode", true}});
  net.add("unpool", "MaxUnpool2d", {"pooled", "argmax"}, {"restored"},
          {{"kernel_size", 2}, {"stride", 2}, {"output_size", {9, 10}}});
  net.add("avg", "AvgPool2d", {"features"}, {"smooth"},
          {{"kernel_size", 3}, {"stride", 2}, {"padding", 1}, {"count_include_pad", false}});
  net.add("head", "Conv2d", {"smooth"}, {"logits"}, {{"in_channels", 3}, {"out_channels", 2}, {"kernel_size", 1}});
  net.add("squeeze", "AdaptiveMaxPool2d", {"restored"}, {"summary"}, {{"output_size", {2, nullptr}}});
  std::vector<float> bias = {0.5f, -0.25f, 1.0f};
  net.parameter("conv.bias", Tensor::wrap(std::span(bias), {3}));
  net.init("head.weight", "kaiming_normal", {{"mode", "fan_out"}, {"nonlinearity", "relu"}});
  for (const char* output : {"pooled", "argmax", "restored", "logits", "summary"}) net.output(output);
  return net;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.desc() == b.desc() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

Tensor ramp(const mininn::Shape& shape) {
  Tensor t = Tensor::empty(shape);
  float* p = t.f32();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>((i * 37) % 23) * 0.25f - 2.0f;
  return t;
}

struct Results {
  std::vector<Tensor> outputs, grads;
};

Results run(const Model& model, mininn::Backend backend) {
  Session session = model.compile({.batch = 3, .backend = backend, .backward = true});
  session.forward({ramp({3, 2, 9, 9})});
  Results r;
  for (size_t i = 0; i < session.outputs().size(); ++i) r.outputs.push_back(session.output(i).clone());
  session.backward();
  r.grads.push_back(session.grad("image").clone());
  for (const mininn::ParameterInfo& p : model.parameters()) r.grads.push_back(session.param_grad(p.name).clone());
  return r;
}

void expect_identical(const Model& a, const Model& b) {
  std::vector<mininn::ParameterInfo> pa = a.parameters(), pb = b.parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].name, pb[i].name);
    EXPECT_EQ(pa[i].source, pb[i].source) << pa[i].name;
    EXPECT_TRUE(same_bits(a.parameter(pa[i].name), b.parameter(pb[i].name))) << pa[i].name;
  }
  for (mininn::Backend backend : {mininn::Backend::Auto, mininn::Backend::Naive}) {
    Results ra = run(a, backend), rb = run(b, backend);
    ASSERT_EQ(ra.outputs.size(), rb.outputs.size());
    for (size_t i = 0; i < ra.outputs.size(); ++i) EXPECT_TRUE(same_bits(ra.outputs[i], rb.outputs[i])) << "output " << i;
    ASSERT_EQ(ra.grads.size(), rb.grads.size());
    for (size_t i = 0; i < ra.grads.size(); ++i) EXPECT_TRUE(same_bits(ra.grads[i], rb.grads[i])) << "gradient " << i;
  }
}

TEST(Builder, GivesTheSameModelAsJson) {
  Model from_json = Model::parse(kModelJson, "m.json");
  Model built = make_builder().build();
  EXPECT_EQ(built.name(), "both");
  EXPECT_EQ(built.seed(), 7u);
  ASSERT_EQ(built.outputs().size(), 5u);
  EXPECT_EQ(built.outputs()[1].dtype, mininn::DType::Int64);
  EXPECT_EQ(built.outputs()[4].shape, (mininn::Shape{mininn::kDynamic, 3, 2, 10}));
  expect_identical(from_json, built);
  // The explicit values and the seeded draws really are in there.
  EXPECT_EQ(built.parameter("conv.bias").floats()[1], -0.25f);
  EXPECT_NE(built.parameter("conv.weight").floats()[0], 0.0f);
}

TEST(Builder, ToJsonLoadsAsTheSameModel) {
  ModelBuilder net = make_builder();
  std::string text = net.to_json();
  EXPECT_NE(text.find(R"("shape": [null, 2, 9, 9])"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("init": "kaiming_normal")"), std::string::npos) << text;
  expect_identical(Model::parse(text, "generated.json"), net.build());
}

TEST(Builder, ParameterLastCallWinsAndShapeIsChecked) {
  ModelBuilder net = make_builder();
  std::vector<float> bias = {1, 2, 3};
  net.init("conv.bias", "zeros");
  net.parameter("conv.bias", Tensor::wrap(std::span(bias), {3}));
  bias[0] = 99;  // copied at the call: later changes do not matter
  EXPECT_EQ(net.build().parameter("conv.bias").floats()[0], 1.0f);

  std::vector<float> wrong(3);
  net.parameter("conv.bias", Tensor::wrap(std::span(wrong), {1, 3}));
  try {
    net.build();
    FAIL() << "a [1, 3] tensor for a [3] bias was accepted";
  } catch (const mininn::Error& e) {
    EXPECT_EQ(e.where().node, "conv");
    EXPECT_EQ(e.where().path.rfind("nodes[0].params.bias", 0), 0u) << e.what();
  }
  net.parameter("nowhere.weight", Tensor::zeros({1}));
  EXPECT_THROW(net.build(), mininn::Error);
  EXPECT_THROW(net.parameter("weight", Tensor::zeros({1})), mininn::Error);
}

TEST(Builder, ToJsonRefusesValuesJsonCannotHold) {
  ModelBuilder net = make_builder();
  std::vector<float> bias = {1, std::numeric_limits<float>::quiet_NaN(), 3};
  net.parameter("conv.bias", Tensor::wrap(std::span(bias), {3}));
  EXPECT_THROW(net.to_json(), mininn::Error);
  // In memory a NaN is a value like any other.
  EXPECT_TRUE(std::isnan(net.build().parameter("conv.bias").floats()[1]));
}

// --- errors: the builder's equal the loader's, and name the node and path ---

struct Mistake {
  const char* name;
  const char* json_node;                        // a node of a one-input model
  std::function<void(ModelBuilder&)> add_node;  // the same node, built
  const char* path;                             // where the error points
  const char* words;                            // part of the message
  bool thrown_by_add;                           // else by build()
};

const std::vector<Mistake>& mistakes() {
  static const std::vector<Mistake> list = {
      {"unknown op", R"({"name": "p", "op": "MaxPool", "inputs": ["x"], "outputs": ["y"]})",
       [](ModelBuilder& b) { b.add("p", "MaxPool", {"x"}, {"y"}); }, "nodes[0].op", "unknown op 'MaxPool' (did you mean 'MaxPool", true},
      {"unknown attribute", R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel": 2}})",
       [](ModelBuilder& b) { b.add("p", "MaxPool2d", {"x"}, {"y"}, {{"kernel", 2}}); }, "nodes[0].attrs.kernel",
       "did you mean 'kernel_size'", true},
      {"wrong type", R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": "2"}})",
       [](ModelBuilder& b) { b.add("p", "MaxPool2d", {"x"}, {"y"}, {{"kernel_size", "2"}}); },
       "nodes[0].attrs.kernel_size", "kernel_size must be an int", true},
      {"list too long",
       R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": [2, 2, 2]}})",
       [](ModelBuilder& b) { b.add("p", "MaxPool2d", {"x"}, {"y"}, {{"kernel_size", {2, 2, 2}}}); },
       "nodes[0].attrs.kernel_size", "3 entries", true},
      {"missing attribute", R"({"name": "p", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"in_channels": 1}})",
       [](ModelBuilder& b) { b.add("p", "Conv2d", {"x"}, {"y"}, {{"in_channels", 1}}); }, "nodes[0].attrs",
       "missing required attribute 'out_channels'", true},
      {"setup rule",
       R"({"name": "p", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"],
           "attrs": {"in_channels": 4, "out_channels": 3, "kernel_size": 1, "groups": 3}})",
       [](ModelBuilder& b) {
         b.add("p", "Conv2d", {"x"}, {"y"}, {{"in_channels", 4}, {"out_channels", 3}, {"kernel_size", 1}, {"groups", 3}});
       },
       "nodes[0].attrs.in_channels", "divisible by groups", true},
      {"shape rule",
       R"({"name": "p", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"],
           "attrs": {"in_channels": 3, "out_channels": 1, "kernel_size": 1}})",
       [](ModelBuilder& b) { b.add("p", "Conv2d", {"x"}, {"y"}, {{"in_channels", 3}, {"out_channels", 1}, {"kernel_size", 1}}); },
       "nodes[0]", "channels", false},
      {"unknown value", R"({"name": "p", "op": "MaxPool2d", "inputs": ["nope"], "outputs": ["y"], "attrs": {"kernel_size": 2}})",
       [](ModelBuilder& b) { b.add("p", "MaxPool2d", {"nope"}, {"y"}, {{"kernel_size", 2}}); }, "nodes[0].inputs[0]",
       "'nope' is not a graph input", false},
      {"output count", R"({"name": "p", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y", "i"], "attrs": {"kernel_size": 2}})",
       [](ModelBuilder& b) { b.add("p", "MaxPool2d", {"x"}, {"y", "i"}, {{"kernel_size", 2}}); }, "nodes[0].outputs",
       "set return_indices", false},
      {"empty name", R"({"name": "", "op": "MaxPool2d", "inputs": ["x"], "outputs": ["y"], "attrs": {"kernel_size": 2}})",
       [](ModelBuilder& b) { b.add("", "MaxPool2d", {"x"}, {"y"}, {{"kernel_size", 2}}); }, "nodes[0].name",
       "must not be empty", false},
  };
  return list;
}

TEST(Builder, ErrorsMatchTheLoaderAndNameNodeAndPath) {
  for (const Mistake& m : mistakes()) {
    SCOPED_TRACE(m.name);
    std::string json_message;
    try {
      Model::parse(std::string(R"({"inputs": [{"name": "x", "shape": [1, 1, 4, 4]}], "nodes": [)") + m.json_node +
                       R"(], "outputs": ["y"]})",
                   "m.json");
      ADD_FAILURE() << "the loader accepted it";
    } catch (const mininn::Error& e) {
      json_message = e.what();
    }
    ASSERT_EQ(json_message.rfind("m.json: ", 0), 0u) << json_message;
    json_message = json_message.substr(8);  // the loader names the file; the builder has none

    ModelBuilder net;
    net.input("x", {1, 1, 4, 4}).output("y");
    bool from_add = false;
    try {
      from_add = true;
      m.add_node(net);
      from_add = false;
      net.build();
      ADD_FAILURE() << "the builder accepted it";
    } catch (const mininn::Error& e) {
      EXPECT_EQ(e.what(), json_message);
      EXPECT_EQ(from_add, m.thrown_by_add) << e.what();
      EXPECT_EQ(e.where().path, m.path) << e.what();
      EXPECT_NE(std::string(e.what()).find(m.words), std::string::npos) << e.what();
      if (std::string(m.name) != "empty name") {
        EXPECT_EQ(e.where().node, "p") << e.what();
      }
    }
  }
}

TEST(Builder, AddChecksAttributesGivenTwice) {
  ModelBuilder net;
  try {
    net.add("p", "MaxPool2d", {"x"}, {"y"}, {{"kernel_size", 2}, {"kernel_size", 3}});
    FAIL();
  } catch (const mininn::Error& e) {
    EXPECT_EQ(e.where().path, "nodes[0].attrs.kernel_size");
    EXPECT_EQ(e.where().op, "MaxPool2d");
  }
}

TEST(Builder, FailedAddLeavesTheBuilderUnchanged) {
  ModelBuilder net;
  net.input("x", {1, 1, 4, 4});
  EXPECT_THROW(net.add("bad", "NoSuchOp", {"x"}, {"y"}), mininn::Error);
  net.add("p", "MaxPool2d", {"x"}, {"y"}, {{"kernel_size", 2}}).output("y");
  // The good node is nodes[0]: the failed one was not kept.
  EXPECT_NE(net.to_json().find(R"({"name": "p")"), std::string::npos);
  EXPECT_EQ(net.build().outputs()[0].shape, (mininn::Shape{1, 1, 2, 2}));
}

TEST(AttrValue, WritesJson) {
  EXPECT_EQ(mininn::AttrValue(3).to_json(), "3");
  EXPECT_EQ(mininn::AttrValue(true).to_json(), "true");
  EXPECT_EQ(mininn::AttrValue(0.5).to_json(), "0.5");
  EXPECT_EQ(mininn::AttrValue("reflect").to_json(), "\"reflect\"");
  EXPECT_EQ(mininn::AttrValue(nullptr).to_json(), "null");
  EXPECT_EQ(mininn::AttrValue({nullptr, 7}).to_json(), "[null,7]");
  EXPECT_EQ(mininn::AttrValue(std::vector<int64_t>{1, 2}).to_json(), "[1,2]");
  EXPECT_EQ(mininn::AttrValue({3}).kind(), mininn::AttrValue::Kind::List);
  EXPECT_EQ(mininn::AttrValue(0).kind(), mininn::AttrValue::Kind::Int);
}

}  // namespace
