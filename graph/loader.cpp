// JSON model → ModelSpec → Graph, with every check naming its JSON path.
#include "framework/error.h"
#include "framework/strings.h"
#include "graph/limits.h"
#include "graph/spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace mininn {
namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 64;
constexpr size_t kMaxModelBytes = size_t{256} << 20;

[[noreturn]] void fail_at(const std::string& path, const std::string& message) { throw Error(message, {path}); }

const char* json_kind(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  return "an object";
}

void expect_keys(const json& object, const std::string& path, const std::vector<std::string>& known) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end())
      fail_at(path.empty() ? key : path + "." + key,
              fmt::format("unknown key '{}'{}; expected one of: {}", key, did_you_mean(key, known), join(known)));
  }
}

const json& require(const json& object, const std::string& key, const std::string& path) {
  if (!object.contains(key)) fail_at(path, fmt::format("missing required key '{}'", key));
  return object.at(key);
}

std::string get_string(const json& v, const std::string& path) {
  if (!v.is_string()) fail_at(path, fmt::format("must be a string, not {}", json_kind(v)));
  std::string s = v.get<std::string>();
  if (s.empty()) fail_at(path, "must not be empty");
  return s;
}

std::vector<std::string> get_names(const json& v, const std::string& path) {
  if (!v.is_array()) fail_at(path, fmt::format("must be a list of value names, not {}", json_kind(v)));
  std::vector<std::string> names;
  for (size_t i = 0; i < v.size(); ++i) names.push_back(get_string(v[i], fmt::format("{}[{}]", path, i)));
  return names;
}

InputSpecEntry parse_input(const json& v, const std::string& path) {
  if (!v.is_object()) fail_at(path, fmt::format("must be an object, not {}", json_kind(v)));
  expect_keys(v, path, {"name", "shape", "dtype", "requires_grad"});
  InputSpecEntry input;
  input.path = path;
  input.name = get_string(require(v, "name", path), path + ".name");
  const json& shape = require(v, "shape", path);
  if (!shape.is_array() || shape.empty())
    fail_at(path + ".shape", "must be a non-empty list of sizes (a leading null is a run-time batch)");
  for (size_t i = 0; i < shape.size(); ++i) {
    std::string at = fmt::format("{}.shape[{}]", path, i);
    if (shape[i].is_null() && i == 0) {
      input.shape.push_back(kDynamic);
      continue;
    }
    if (shape[i].is_null()) fail_at(at, "only the leading (batch) dimension may be null");
    if (!shape[i].is_number_integer() || shape[i].get<int64_t>() < 0 ||
        (shape[i].is_number_unsigned() && shape[i].get<uint64_t>() > uint64_t(INT64_MAX)))
      fail_at(at, fmt::format("must be a non-negative integer, not {}", shape[i].dump()));
    input.shape.push_back(shape[i].get<int64_t>());
  }
  if (v.contains("dtype")) {
    std::string dtype = get_string(v["dtype"], path + ".dtype");
    if (dtype == "float32") input.dtype = DType::Float32;
    else if (dtype == "int64") input.dtype = DType::Int64;
    else fail_at(path + ".dtype", fmt::format("must be \"float32\" or \"int64\", not \"{}\"", dtype));
  }
  if (v.contains("requires_grad")) {
    if (!v["requires_grad"].is_boolean()) fail_at(path + ".requires_grad", "must be true or false");
    input.requires_grad = v["requires_grad"].get<bool>();
  }
  return input;
}

NodeSpec parse_node(const json& v, const std::string& path) {
  if (!v.is_object()) fail_at(path, fmt::format("must be an object, not {}", json_kind(v)));
  expect_keys(v, path, {"name", "op", "inputs", "outputs", "attrs", "params"});
  NodeSpec node;
  node.path = path;
  node.name = get_string(require(v, "name", path), path + ".name");
  node.op = get_string(require(v, "op", path), path + ".op");
  node.inputs = get_names(require(v, "inputs", path), path + ".inputs");
  node.outputs = get_names(require(v, "outputs", path), path + ".outputs");
  if (v.contains("attrs")) {
    if (!v["attrs"].is_object()) fail_at(path + ".attrs", fmt::format("must be an object, not {}", json_kind(v["attrs"])));
    node.attrs = v["attrs"];
  }
  if (v.contains("params")) {
    if (!v["params"].is_object())
      fail_at(path + ".params", fmt::format("must be an object, not {}", json_kind(v["params"])));
    node.params = v["params"];
  }
  return node;
}

}  // namespace

ModelSpec parse_model_spec(const json& document, const std::string& source, const std::string& base_dir) {
  ModelSpec spec;
  spec.source = source;
  spec.base_dir = base_dir;
  if (!document.is_object()) fail_at("(top level)", fmt::format("a model must be a JSON object, not {}", json_kind(document)));
  expect_keys(document, "", {"format", "name", "seed", "weights", "inputs", "nodes", "outputs"});
  if (document.contains("format")) {
    std::string format = get_string(document["format"], "format");
    if (format != "mininn/1") fail_at("format", fmt::format("unsupported format '{}'; this mininn reads \"mininn/1\"", format));
  }
  if (document.contains("name")) spec.name = get_string(document["name"], "name");
  if (document.contains("seed")) {
    const json& seed = document["seed"];
    if (!seed.is_number_integer() || (!seed.is_number_unsigned() && seed.get<int64_t>() < 0))
      fail_at("seed", fmt::format("must be a non-negative integer, not {}", seed.dump()));
    spec.seed = seed.get<uint64_t>();
  }
  if (document.contains("weights")) spec.weights = get_string(document["weights"], "weights");

  const json& inputs = require(document, "inputs", "(top level)");
  if (!inputs.is_array()) fail_at("inputs", fmt::format("must be a list, not {}", json_kind(inputs)));
  for (size_t i = 0; i < inputs.size(); ++i) spec.inputs.push_back(parse_input(inputs[i], fmt::format("inputs[{}]", i)));

  const json& nodes = require(document, "nodes", "(top level)");
  if (!nodes.is_array()) fail_at("nodes", fmt::format("must be a list, not {}", json_kind(nodes)));
  for (size_t i = 0; i < nodes.size(); ++i) spec.nodes.push_back(parse_node(nodes[i], fmt::format("nodes[{}]", i)));

  spec.outputs = get_names(require(document, "outputs", "(top level)"), "outputs");
  if (spec.outputs.empty()) fail_at("outputs", "a model needs at least one output");
  return spec;
}

Graph build_graph(const ModelSpec& spec) {
  Graph graph;
  graph.name = spec.name;
  graph.seed = spec.seed;
  std::map<std::string, std::string> defined_at;  // value name -> JSON path that defines it

  auto define_value = [&](const std::string& name, const std::string& path) {
    auto [it, fresh] = defined_at.emplace(name, path);
    if (!fresh) fail_at(path, fmt::format("value '{}' is already defined at {}; every value is produced once", name, it->second));
    graph.values.push_back(Value{name, {}, -1, 0, false});
    return static_cast<int>(graph.values.size() - 1);
  };

  for (const InputSpecEntry& input : spec.inputs) {
    int id = define_value(input.name, input.path + ".name");
    graph.values[id].desc = {input.dtype, input.shape};
    check_tensor_bytes(input.shape, input.dtype, fmt::format("input '{}'", input.name));
    graph.inputs.push_back({id, input.dtype == DType::Float32 && input.requires_grad});
  }

  std::set<std::string> node_names;
  for (size_t n = 0; n < spec.nodes.size(); ++n) {
    const NodeSpec& ns = spec.nodes[n];
    if (!node_names.insert(ns.name).second) fail_at(ns.path + ".name", fmt::format("duplicate node name '{}'", ns.name));
    Node node;
    node.name = ns.name;
    node.path = ns.path;
    node.schema = registry().find(ns.op);
    if (!node.schema)
      throw Error(fmt::format("unknown op '{}'{}", ns.op, did_you_mean(ns.op, registry().names())),
                  {ns.path + ".op", ns.name});
    Error::Where where{ns.path, ns.name, ns.op};
    try {
      Attrs attrs(node.schema->attrs, ns.attrs, ns.path + ".attrs", node.schema->spatial_rank);
      node.attrs_summary = attrs.summary();
      node.op = node.schema->create(attrs);
    } catch (const Error& e) {
      throw e.in(where);
    }

    size_t required = 0;
    for (const InputSpec& in : node.schema->inputs) required += in.optional ? 0 : 1;
    size_t allowed = node.schema->inputs.size();
    if (ns.inputs.size() < required || ns.inputs.size() > allowed) {
      std::vector<std::string> names;
      for (const InputSpec& in : node.schema->inputs) names.push_back(in.optional ? in.name + " (optional)" : in.name);
      throw Error(fmt::format("{} takes {} input{} ({}), but {} {} given", ns.op,
                              required == allowed ? std::to_string(allowed) : fmt::format("{} to {}", required, allowed),
                              allowed == 1 ? "" : "s", join(names), ns.inputs.size(), ns.inputs.size() == 1 ? "is" : "are"),
                  {ns.path + ".inputs", ns.name, ns.op});
    }
    size_t outputs = static_cast<size_t>(node.op->num_outputs());
    if (ns.outputs.size() != outputs)
      throw Error(fmt::format("{} with these attributes produces {} output{}, but {} {} listed{}", ns.op, outputs,
                              outputs == 1 ? "" : "s", ns.outputs.size(), ns.outputs.size() == 1 ? "is" : "are",
                              outputs == 1 && ns.outputs.size() == 2 ? " (set return_indices to get the indices)" : ""),
                  {ns.path + ".outputs", ns.name, ns.op});
    for (size_t i = 0; i < ns.outputs.size(); ++i) {
      int id = define_value(ns.outputs[i], fmt::format("{}.outputs[{}]", ns.path, i));
      graph.values[id].producer = static_cast<int>(n);
      graph.values[id].output_index = static_cast<int>(i);
      node.outputs.push_back(id);
    }
    graph.nodes.push_back(std::move(node));
  }

  // Inputs may name values defined later in the file: resolve them now.
  for (size_t n = 0; n < spec.nodes.size(); ++n) {
    const NodeSpec& ns = spec.nodes[n];
    for (size_t i = 0; i < ns.inputs.size(); ++i) {
      int id = graph.find_value(ns.inputs[i]);
      if (id < 0) {
        std::vector<std::string> known;
        for (const Value& v : graph.values) known.push_back(v.name);
        throw Error(fmt::format("input '{}' is not a graph input or any node's output{}", ns.inputs[i],
                                did_you_mean(ns.inputs[i], known)),
                    {fmt::format("{}.inputs[{}]", ns.path, i), ns.name, ns.op});
      }
      graph.nodes[n].inputs.push_back(id);
    }
  }
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    int id = graph.find_value(spec.outputs[i]);
    if (id < 0) {
      std::vector<std::string> known;
      for (const Value& v : graph.values) known.push_back(v.name);
      fail_at(fmt::format("outputs[{}]", i), fmt::format("'{}' is not a graph input or any node's output{}",
                                                          spec.outputs[i], did_you_mean(spec.outputs[i], known)));
    }
    if (std::find(graph.outputs.begin(), graph.outputs.end(), id) != graph.outputs.end())
      fail_at(fmt::format("outputs[{}]", i), fmt::format("'{}' is listed twice", spec.outputs[i]));
    graph.outputs.push_back(id);
  }

  schedule_nodes(graph);
  infer_shapes(graph);
  mark_requires_grad(graph);
  check_model_bytes(graph);  // before the parameters are allocated
  load_parameters(graph, spec);
  return graph;
}

void schedule_nodes(Graph& graph) {
  const size_t count = graph.nodes.size();
  std::vector<int> pending(count, 0);
  std::vector<std::vector<int>> consumers(count);
  for (size_t n = 0; n < count; ++n)
    for (int v : graph.nodes[n].inputs) {
      int producer = graph.values[v].producer;
      if (producer >= 0) {
        ++pending[n];
        consumers[producer].push_back(static_cast<int>(n));
      }
    }
  // Kahn's algorithm, always taking the earliest ready node in file order, so
  // a model already in order runs in file order.
  std::set<int> ready;
  for (size_t n = 0; n < count; ++n)
    if (pending[n] == 0) ready.insert(static_cast<int>(n));
  graph.schedule.clear();
  while (!ready.empty()) {
    int n = *ready.begin();
    ready.erase(ready.begin());
    graph.schedule.push_back(n);
    for (int c : consumers[n])
      if (--pending[c] == 0) ready.insert(c);
  }
  if (graph.schedule.size() != count) {
    std::vector<std::string> stuck;
    for (size_t n = 0; n < count; ++n)
      if (pending[n] > 0) stuck.push_back("'" + graph.nodes[n].name + "'");
    const Node& first = *std::find_if(graph.nodes.begin(), graph.nodes.end(),
                                      [&](const Node& node) { return pending[&node - graph.nodes.data()] > 0; });
    throw Error(fmt::format("the graph has a cycle through nodes {}", join(stuck)), {first.path, first.name, first.schema->name});
  }
}

void infer_shapes(Graph& graph) {
  for (int n : graph.schedule) {
    Node& node = graph.nodes[n];
    std::vector<TensorDesc> inputs;
    for (int v : node.inputs) inputs.push_back(graph.values[v].desc);
    std::vector<TensorDesc> outputs;
    try {
      outputs = node.op->infer(inputs);
      for (size_t i = 0; i < outputs.size(); ++i)
        check_tensor_bytes(outputs[i].shape, outputs[i].dtype, fmt::format("output '{}'", graph.values[node.outputs[i]].name));
    } catch (const Error& e) {
      throw e.in({node.path, node.name, node.schema->name});
    }
    for (size_t i = 0; i < outputs.size(); ++i) graph.values[node.outputs[i]].desc = outputs[i];
  }
}

void mark_requires_grad(Graph& graph) {
  for (Value& v : graph.values) v.requires_grad = false;
  for (const GraphInput& input : graph.inputs) graph.values[input.value].requires_grad = input.requires_grad;
  for (int n : graph.schedule) {
    const Node& node = graph.nodes[n];
    bool reaches = false;  // a trainable parameter or a differentiable input needs the gradient
    for (const ParamDecl& p : node.op->params()) reaches = reaches || p.trainable;
    for (size_t i = 0; i < node.inputs.size(); ++i)
      reaches = reaches || (node.op->differentiable_input(static_cast<int>(i)) && graph.values[node.inputs[i]].requires_grad);
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      Value& out = graph.values[node.outputs[i]];
      out.requires_grad = reaches && out.desc.dtype == DType::Float32 && node.op->differentiable_output(static_cast<int>(i));
    }
  }
}

int Graph::find_value(const std::string& name) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == name) return static_cast<int>(i);
  return -1;
}

int Graph::find_param(const std::string& name) const {
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].name == name) return static_cast<int>(i);
  return -1;
}

int Graph::find_node(const std::string& name) const {
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].name == name) return static_cast<int>(i);
  return -1;
}

Graph parse_model(const std::string& text, const std::string& source, const std::string& base_dir) {
  json document;
  try {
    document = json::parse(text, [&](int depth, json::parse_event_t, json&) {
      if (depth > kMaxJsonDepth) throw Error(fmt::format("{}: JSON nested deeper than {} levels", source, kMaxJsonDepth));
      return true;
    });
  } catch (const json::exception& e) {
    // nlohmann's message starts "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
    // — or, for a number no double can hold, "[json.exception.out_of_range.406]
    // number overflow parsing '1e999'", not a parse_error. The message quotes
    // the offending input: escape what may not be printable UTF-8, so the one
    // error line stays readable.
    std::string what;
    for (unsigned char c : std::string(e.what())) {
      if (c >= 0x20 && c < 0x7f) what += static_cast<char>(c);
      else what += fmt::format("\\x{:02x}", c);
    }
    size_t at = what.find("] ");
    throw Error(fmt::format("{}: invalid JSON: {}", source, at == std::string::npos ? what : what.substr(at + 2)));
  }
  try {
    return build_graph(parse_model_spec(document, source, base_dir));
  } catch (const Error& e) {
    // Put the file in front of the JSON path: "seed.json: nodes[1].attrs.padding: ..."
    Error::Where where = e.where();
    where.path = where.path.empty() ? source : source + ": " + where.path;
    throw Error(e.message(), where);
  }
}

Graph load_model(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error(fmt::format("{}: no such model file", path));
  auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(fmt::format("{}: cannot read: {}", path, ec.message()));
  if (size > kMaxModelBytes) throw Error(fmt::format("{}: the model file is {} bytes, over the limit of {}", path, size, kMaxModelBytes));
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(fmt::format("{}: cannot open the model file", path));
  std::stringstream text;
  text << file.rdbuf();
  std::string base = std::filesystem::path(path).parent_path().string();
  return parse_model(text.str(), path, base.empty() ? "." : base);
}

}  // namespace mininn
