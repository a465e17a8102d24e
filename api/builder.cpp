// ModelBuilder: a network in code becomes the JSON document a model file
// would hold, and from there takes the loader's own path (parse_model_spec,
// build_graph), so both ways get the same checks and the same messages.
#include "api/internal.h"
#include "framework/strings.h"
#include "graph/spec.h"
#include "ops/registry.h"

#include <mininn/builder.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

namespace mininn {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

template <class Json>
Json to_json_value(const AttrValue& value) {
  switch (value.kind()) {
    case AttrValue::Kind::Null: return nullptr;
    case AttrValue::Kind::Bool: return value.as_bool();
    case AttrValue::Kind::Int: return value.as_int();
    case AttrValue::Kind::Float: return value.as_float();
    case AttrValue::Kind::String: return value.as_string();
    case AttrValue::Kind::List: {
      Json list = Json::array();
      for (const AttrValue& item : value.as_list()) list.push_back(to_json_value<Json>(item));
      return list;
    }
  }
  return nullptr;
}

// A tensor as a nested list shaped like it, so a shape that differs from the
// parameter's is reported, not silently reshaped.
template <class Json>
Json nested_values(const Tensor& t, size_t dim, int64_t offset) {
  if (dim == t.rank()) {
    if (t.dtype() == DType::Int64) return t.ints()[static_cast<size_t>(offset)];
    return static_cast<double>(t.floats()[static_cast<size_t>(offset)]);
  }
  int64_t stride = 1;
  for (size_t i = dim + 1; i < t.rank(); ++i) stride *= t.dim(i);
  Json list = Json::array();
  for (int64_t i = 0; i < t.dim(dim); ++i) list.push_back(nested_values<Json>(t, dim + 1, offset + i * stride));
  return list;
}

}  // namespace

// --- AttrValue ---------------------------------------------------------------

std::string AttrValue::to_json() const { return to_json_value<json>(*this).dump(); }

// --- ModelBuilder ------------------------------------------------------------

struct ModelBuilder::Impl {
  struct Input {
    std::string name;
    Shape shape;
    InputOptions options;
  };
  struct NodeEntry {
    std::string name, op;
    std::vector<std::string> inputs, outputs;
    Attributes attributes;
  };
  struct ParamEntry {
    std::string node, param;  // "conv", "weight"
    std::optional<Tensor> values;
    std::string function;  // init function, when no values
    Attributes arguments;
  };

  std::string name;
  uint64_t seed = 0;
  std::string weights;
  std::string base_dir = ".";
  std::vector<Input> inputs;
  std::vector<NodeEntry> nodes;
  std::vector<std::string> outputs;
  std::vector<ParamEntry> params;  // one per parameter, the latest call's

  // The model document. `for_text` refuses values JSON text cannot hold.
  template <class Json>
  Json document(bool for_text) const;
};

template <class Json>
Json ModelBuilder::Impl::document(bool for_text) const {
  Json doc = Json::object();
  doc["format"] = "mininn/1";
  if (!name.empty()) doc["name"] = name;
  doc["seed"] = seed;
  if (!weights.empty()) doc["weights"] = weights;

  doc["inputs"] = Json::array();
  for (const Input& input : inputs) {
    Json entry = Json::object();
    entry["name"] = input.name;
    Json shape = Json::array();
    for (size_t d = 0; d < input.shape.size(); ++d) {
      // kDynamic is `null`, anywhere: the loader then says where it may stand.
      if (input.shape[d] == kDynamic) shape.push_back(nullptr);
      else shape.push_back(input.shape[d]);
    }
    entry["shape"] = shape;
    if (input.options.dtype != DType::Float32) entry["dtype"] = dtype_name(input.options.dtype);
    if (!input.options.requires_grad) entry["requires_grad"] = false;
    doc["inputs"].push_back(entry);
  }

  std::vector<std::string> node_names;
  for (const NodeEntry& node : nodes) node_names.push_back(node.name);
  std::vector<Json> node_params(nodes.size(), Json::object());
  for (const ParamEntry& p : params) {
    auto it = std::find(node_names.begin(), node_names.end(), p.node);
    if (it == node_names.end())
      throw Error(fmt::format("parameter '{}.{}' names no node '{}'{}", p.node, p.param, p.node, did_you_mean(p.node, node_names)));
    size_t n = static_cast<size_t>(it - node_names.begin());
    Json entry = Json::object();
    if (p.values) {
      if (for_text && p.values->dtype() == DType::Float32)
        for (float v : p.values->floats())
          if (!std::isfinite(v))
            throw Error(fmt::format("'{}.{}' holds {}, which JSON text cannot hold", p.node, p.param, v),
                        {fmt::format("nodes[{}].params.{}", n, p.param), p.node, nodes[n].op});
      entry["data"] = nested_values<Json>(*p.values, 0, 0);
    } else {
      entry["init"] = p.function;
      for (const auto& [key, value] : p.arguments) entry[key] = to_json_value<Json>(value);
    }
    node_params[n][p.param] = entry;
  }

  doc["nodes"] = Json::array();
  for (size_t n = 0; n < nodes.size(); ++n) {
    const NodeEntry& node = nodes[n];
    Json entry = Json::object();
    entry["name"] = node.name;
    entry["op"] = node.op;
    entry["inputs"] = node.inputs;
    entry["outputs"] = node.outputs;
    if (!node.attributes.empty()) {
      Json attrs = Json::object();
      for (const auto& [key, value] : node.attributes) attrs[key] = to_json_value<Json>(value);
      entry["attrs"] = attrs;
    }
    if (!node_params[n].empty()) entry["params"] = node_params[n];
    doc["nodes"].push_back(entry);
  }
  doc["outputs"] = outputs;
  return doc;
}

ModelBuilder::ModelBuilder(std::string name) : impl_(std::make_unique<Impl>()) { impl_->name = std::move(name); }
ModelBuilder::ModelBuilder(const ModelBuilder& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
ModelBuilder& ModelBuilder::operator=(const ModelBuilder& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
ModelBuilder::ModelBuilder(ModelBuilder&&) noexcept = default;
ModelBuilder& ModelBuilder::operator=(ModelBuilder&&) noexcept = default;
ModelBuilder::~ModelBuilder() = default;

ModelBuilder& ModelBuilder::seed(uint64_t seed) {
  impl_->seed = seed;
  return *this;
}

ModelBuilder& ModelBuilder::weights(std::string safetensors_path) {
  impl_->weights = std::move(safetensors_path);
  return *this;
}

ModelBuilder& ModelBuilder::base_dir(std::string folder) {
  impl_->base_dir = std::move(folder);
  return *this;
}

ModelBuilder& ModelBuilder::input(std::string name, Shape shape, InputOptions options) {
  impl_->inputs.push_back({std::move(name), std::move(shape), options});
  return *this;
}

ModelBuilder& ModelBuilder::add(std::string name, std::string op, std::vector<std::string> inputs,
                                std::vector<std::string> outputs, Attributes attributes) {
  api::guarded([&] {
    // The op and its attributes are checked now, exactly as build_graph
    // checks them, so the error comes from the add() that made it.
    const std::string path = fmt::format("nodes[{}]", impl_->nodes.size());
    const OpSchema* schema = registry().find(op);
    if (!schema) throw Error(fmt::format("unknown op '{}'{}", op, did_you_mean(op, registry().names())), {path + ".op", name});
    json attrs = json::object();
    for (const auto& [key, value] : attributes) {
      if (attrs.contains(key))
        throw Error(fmt::format("attribute '{}' is given twice", key), {path + ".attrs." + key, name, op});
      attrs[key] = to_json_value<json>(value);
    }
    try {
      schema->create(Attrs(schema->attrs, attrs, path + ".attrs", schema->spatial_rank));
    } catch (const Error& e) {
      throw e.in({path, name, op});
    }
  });
  impl_->nodes.push_back({std::move(name), std::move(op), std::move(inputs), std::move(outputs), std::move(attributes)});
  return *this;
}

ModelBuilder& ModelBuilder::output(std::string value) {
  impl_->outputs.push_back(std::move(value));
  return *this;
}

namespace {

std::pair<std::string, std::string> split_parameter(std::string_view name) {
  size_t dot = name.rfind('.');
  check(dot != std::string_view::npos && dot > 0 && dot + 1 < name.size(),
        "'{}' is not a parameter name: use '<node>.<param>' as in a state_dict ('conv.weight')", name);
  return {std::string(name.substr(0, dot)), std::string(name.substr(dot + 1))};
}

}  // namespace

ModelBuilder& ModelBuilder::parameter(std::string_view name, const Tensor& values) {
  api::guarded([&] {
    std::string node, param;  // not a structured binding: clang 14 cannot capture one in a lambda
    std::tie(node, param) = split_parameter(name);
    check(values.defined(), "parameter('{}'): the tensor is empty", name);
    std::erase_if(impl_->params, [&](const Impl::ParamEntry& p) { return p.node == node && p.param == param; });
    impl_->params.push_back({node, param, values.clone(), {}, {}});
  });
  return *this;
}

ModelBuilder& ModelBuilder::init(std::string_view parameter, std::string function, Attributes arguments) {
  api::guarded([&] {
    std::string node, param;  // not a structured binding: clang 14 cannot capture one in a lambda
    std::tie(node, param) = split_parameter(parameter);
    std::erase_if(impl_->params, [&](const Impl::ParamEntry& p) { return p.node == node && p.param == param; });
    impl_->params.push_back({node, param, std::nullopt, std::move(function), std::move(arguments)});
  });
  return *this;
}

Model ModelBuilder::build() const {
  return api::guarded([&] {
    ModelSpec spec = parse_model_spec(impl_->document<json>(false), impl_->name.empty() ? "model" : impl_->name,
                                      impl_->base_dir);
    return Model(std::make_shared<Model::Impl>(Model::Impl{std::make_shared<Graph>(build_graph(spec))}));
  });
}

namespace {

// One line per input and node, the rest indented: how a person writes a model.
void write_compact(const ordered_json& value, std::string& out) {
  if (value.is_object()) {
    out += "{";
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      out += first ? "" : ", ";
      first = false;
      out += ordered_json(key).dump() + ": ";
      write_compact(item, out);
    }
    out += "}";
  } else if (value.is_array()) {
    out += "[";
    for (size_t i = 0; i < value.size(); ++i) {
      out += i ? ", " : "";
      write_compact(value[i], out);
    }
    out += "]";
  } else {
    out += value.dump();
  }
}

}  // namespace

std::string ModelBuilder::to_json() const {
  return api::guarded([&] {
    ordered_json doc = impl_->document<ordered_json>(true);
    std::string out = "{\n";
    bool first = true;
    for (const auto& [key, value] : doc.items()) {
      out += first ? "" : ",\n";
      first = false;
      out += "  " + ordered_json(key).dump() + ": ";
      if ((key == "inputs" || key == "nodes") && !value.empty()) {
        out += "[\n";
        for (size_t i = 0; i < value.size(); ++i) {
          out += "    ";
          write_compact(value[i], out);
          out += i + 1 < value.size() ? ",\n" : "\n";
        }
        out += "  ]";
      } else {
        write_compact(value, out);
      }
    }
    return out + "\n}\n";
  });
}

}  // namespace mininn
