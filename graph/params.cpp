// Parameter values: PyTorch's default initialisation from the model seed,
// then init specs, then the weights file, then data and .npy entries.
#include "framework/error.h"
#include "framework/npy.h"
#include "framework/rng.h"
#include "framework/safetensors.h"
#include "framework/strings.h"
#include "graph/spec.h"
#include "ops/init.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

namespace mininn {
namespace {

using nlohmann::json;

std::string resolve(const std::string& base_dir, const std::string& file) {
  std::filesystem::path p(file);
  return p.is_absolute() ? file : (std::filesystem::path(base_dir) / p).string();
}

// fan_in and fan_out as torch.nn.init._calculate_fan_in_and_fan_out.
std::pair<int64_t, int64_t> fans(const Shape& shape, const std::string& path) {
  if (shape.size() < 2) throw Error("fan in and fan out can not be computed for a tensor with fewer than 2 dimensions", {path});
  int64_t receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return {shape[1] * receptive, shape[0] * receptive};
}

double number_option(const json& spec, const char* key, double fallback, const std::string& path) {
  if (!spec.contains(key)) return fallback;
  if (!spec[key].is_number()) throw Error(fmt::format("'{}' must be a number", key), {path + "." + key});
  return spec[key].get<double>();
}

double gain(const std::string& nonlinearity, double a, const std::string& path) {
  if (nonlinearity == "linear" || nonlinearity == "conv2d" || nonlinearity == "sigmoid" || nonlinearity == "conv1d" ||
      nonlinearity == "conv3d")
    return 1;
  if (nonlinearity == "tanh") return 5.0 / 3;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1 + a * a));
  if (nonlinearity == "selu") return 3.0 / 4;
  throw Error(fmt::format("unsupported nonlinearity '{}'", nonlinearity), {path + ".nonlinearity"});
}

// An {"init": ...} spec, with torch.nn.init's names and defaults.
void apply_init(const json& spec, Tensor& t, Generator& generator, const std::string& path) {
  static const std::vector<std::string> kinds = {"zeros", "ones", "constant", "uniform", "normal", "kaiming_uniform",
                                                 "kaiming_normal", "xavier_uniform", "xavier_normal"};
  static const std::map<std::string, std::vector<std::string>> options = {
      {"zeros", {}}, {"ones", {}}, {"constant", {"val"}}, {"uniform", {"a", "b"}}, {"normal", {"mean", "std"}},
      {"kaiming_uniform", {"a", "mode", "nonlinearity"}}, {"kaiming_normal", {"a", "mode", "nonlinearity"}},
      {"xavier_uniform", {"gain"}}, {"xavier_normal", {"gain"}}};
  if (!spec["init"].is_string()) throw Error("must be a string naming a torch.nn.init function", {path + ".init"});
  std::string kind = spec["init"].get<std::string>();
  auto it = options.find(kind);
  if (it == options.end())
    throw Error(fmt::format("unknown init '{}'{}; expected one of: {}", kind, did_you_mean(kind, kinds), join(kinds)),
                {path + ".init"});
  for (const auto& [key, value] : spec.items()) {
    if (key == "init") continue;
    const auto& allowed = it->second;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw Error(fmt::format("unknown option '{}' for init '{}'{}", key, kind,
                              allowed.empty() ? std::string("; it takes none") : "; it takes: " + join(allowed)),
                  {path + "." + key});
  }
  std::span<float> values = t.floats();
  if (kind == "zeros") return t.fill(0);
  if (kind == "ones") return t.fill(1);
  if (kind == "constant") {
    if (!spec.contains("val")) throw Error("init 'constant' needs 'val'", {path});
    return t.fill(static_cast<float>(number_option(spec, "val", 0, path)));
  }
  if (kind == "uniform")
    return generator.uniform(values, number_option(spec, "a", 0, path), number_option(spec, "b", 1, path));
  if (kind == "normal")
    return generator.normal(values, number_option(spec, "mean", 0, path), number_option(spec, "std", 1, path));
  auto [fan_in, fan_out] = fans(t.shape(), path);
  if (kind == "kaiming_uniform" || kind == "kaiming_normal") {
    double a = number_option(spec, "a", 0, path);
    std::string mode = spec.value("mode", std::string("fan_in"));
    if (mode != "fan_in" && mode != "fan_out") throw Error("mode must be \"fan_in\" or \"fan_out\"", {path + ".mode"});
    double std = gain(spec.value("nonlinearity", std::string("leaky_relu")), a, path) /
                 std::sqrt(static_cast<double>(mode == "fan_in" ? fan_in : fan_out));
    if (kind == "kaiming_normal") return generator.normal(values, 0, std);
    double bound = std::sqrt(3.0) * std;
    return generator.uniform(values, -bound, bound);
  }
  double std = number_option(spec, "gain", 1, path) * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  if (kind == "xavier_normal") return generator.normal(values, 0, std);
  double bound = std::sqrt(3.0) * std;
  generator.uniform(values, -bound, bound);
}

// {"data": ...}: a flat list of every value, or a nested list shaped like the
// parameter, where a null entry keeps that slice's default initialisation.
void fill_nested(const json& data, const Shape& shape, size_t dim, float* out, const std::string& path) {
  if (data.is_null()) return;  // keep the default values of this slice
  if (dim == shape.size()) {
    if (!data.is_number()) throw Error(fmt::format("must be a number, not {}", data.dump()), {path});
    *out = data.get<float>();
    return;
  }
  if (!data.is_array() || static_cast<int64_t>(data.size()) != shape[dim])
    throw Error(fmt::format("must be a list of {} entries (the parameter's shape is {})", shape[dim], to_string(shape)),
                {path});
  int64_t stride = 1;
  for (size_t i = dim + 1; i < shape.size(); ++i) stride *= shape[i];
  for (int64_t i = 0; i < shape[dim]; ++i) fill_nested(data[i], shape, dim + 1, out + i * stride, fmt::format("{}[{}]", path, i));
}

void apply_data(const json& data, Tensor& t, const std::string& path) {
  bool flat = data.is_array() && static_cast<int64_t>(data.size()) == t.numel() &&
              std::none_of(data.begin(), data.end(), [](const json& v) { return v.is_array(); });
  if (!flat) return fill_nested(data, t.shape(), 0, t.f32(), path);
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i].is_null()) continue;
    if (!data[i].is_number()) throw Error(fmt::format("must be a number, not {}", data[i].dump()), {fmt::format("{}[{}]", path, i)});
    t.f32()[i] = data[i].get<float>();
  }
}

}  // namespace

void load_parameters(Graph& graph, const ModelSpec& spec) {
  Generator generator(graph.seed);
  graph.params.clear();

  // 1. PyTorch's default initialisation, drawn in node order exactly as
  //    constructing the modules after torch.manual_seed(seed) draws it.
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    Node& node = graph.nodes[n];
    for (const ParamDecl& decl : node.op->params()) {
      std::string name = node.name + "." + decl.name;
      Tensor t;
      try {
        t = Tensor::empty(decl.shape, decl.dtype);
      } catch (const Error& e) {
        throw e.in({node.path + ".params." + decl.name, node.name, node.schema->name});
      }
      if (decl.dtype == DType::Int64) t.zero();  // a counter: no random draw
      else switch (decl.init.kind) {
        case DefaultInit::Zeros: t.fill(0); break;
        case DefaultInit::Ones: t.fill(1); break;
        case DefaultInit::Uniform:
          generator.uniform(t.floats(), -decl.init.bound, decl.init.bound);
          break;
      }
      node.params.push_back(static_cast<int>(graph.params.size()));
      graph.params.push_back({name, t, decl.trainable, "default init"});
    }
  }

  // 2. The node's params entries: check them, then run init specs in order.
  std::set<int> given;  // parameters with an entry of their own
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    Node& node = graph.nodes[n];
    const NodeSpec& ns = spec.nodes[n];
    std::vector<ParamDecl> decls = node.op->params();
    std::vector<std::string> names;
    for (const ParamDecl& d : decls) names.push_back(d.name);
    for (const auto& [key, entry] : ns.params.items()) {
      std::string path = ns.path + ".params." + key;
      Error::Where where{path, node.name, node.schema->name};
      if (std::find(names.begin(), names.end(), key) == names.end())
        throw Error(fmt::format("{} has no parameter '{}'{}; {}", node.schema->name, key, did_you_mean(key, names),
                                names.empty() ? std::string("it has none") : "it has: " + join(names)),
                    where);
      if (!entry.is_object() || (entry.contains("data") + entry.contains("npy") + entry.contains("init")) != 1)
        throw Error("must be an object with exactly one of \"data\", \"npy\" or \"init\"", where);
      if (!entry.contains("init")) {
        for (const auto& [k, v] : entry.items())
          if (k != "data" && k != "npy") throw Error(fmt::format("unknown key '{}'", k), {path + "." + k, node.name, node.schema->name});
      }
      int id = node.params[std::find(names.begin(), names.end(), key) - names.begin()];
      given.insert(id);
      if (graph.params[id].tensor.dtype() != DType::Float32 && !entry.contains("npy"))
        throw Error(fmt::format("'{}' is an int64 buffer: give it with \"npy\" or the weights file", key), where);
    }
    // Init specs draw in the op's parameter order (weight before bias), not
    // in the JSON object's key order, which the parser does not keep.
    for (size_t i = 0; i < decls.size(); ++i) {
      if (!ns.params.contains(decls[i].name) || !ns.params[decls[i].name].contains("init")) continue;
      const json& entry = ns.params[decls[i].name];
      std::string path = ns.path + ".params." + decls[i].name;
      Parameter& param = graph.params[node.params[i]];
      try {
        apply_init(entry, param.tensor, generator, path);
        param.source = "init " + entry["init"].dump();
      } catch (const Error& e) {
        throw e.in({path, node.name, node.schema->name});
      }
    }
  }

  // 3. The model's weights file, for parameters the node does not give.
  if (!spec.weights.empty()) {
    std::string file = resolve(spec.base_dir, spec.weights);
    std::map<std::string, Tensor> weights;
    try {
      weights = read_safetensors(file);
    } catch (const Error& e) {
      throw e.in({"weights"});
    }
    for (auto& [name, tensor] : weights) {
      int id = graph.find_param(name);
      if (id < 0) {
        std::vector<std::string> known;
        for (const Parameter& p : graph.params) known.push_back(p.name);
        throw Error(fmt::format("{} holds '{}', which is no parameter of this model{}", spec.weights, name,
                                did_you_mean(name, known)),
                    {"weights"});
      }
      Parameter& param = graph.params[id];
      if (tensor.shape() != param.tensor.shape())
        throw Error(fmt::format("{} gives '{}' the shape {}, but the model needs {}", spec.weights, name,
                                to_string(tensor.shape()), to_string(param.tensor.shape())),
                    {"weights"});
      if (tensor.dtype() != param.tensor.dtype())
        throw Error(fmt::format("{} gives '{}' as {}, but it is {}", spec.weights, name, dtype_name(tensor.dtype()),
                                dtype_name(param.tensor.dtype())),
                    {"weights"});
      if (given.count(id)) continue;  // the node's own entry wins
      std::memcpy(param.tensor.raw(), tensor.raw(), tensor.nbytes());
      param.source = spec.weights;
    }
  }

  // 4. Data and .npy entries win over everything else.
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    Node& node = graph.nodes[n];
    const NodeSpec& ns = spec.nodes[n];
    std::vector<ParamDecl> decls = node.op->params();
    for (size_t i = 0; i < decls.size(); ++i) {
      if (!ns.params.contains(decls[i].name)) continue;
      const json& entry = ns.params[decls[i].name];
      std::string path = ns.path + ".params." + decls[i].name;
      Parameter& param = graph.params[node.params[i]];
      try {
        if (entry.contains("data")) {
          apply_data(entry["data"], param.tensor, path + ".data");
          param.source = "data";
        } else if (entry.contains("npy")) {
          if (!entry["npy"].is_string()) throw Error("must be a file name", {path + ".npy"});
          std::string file = entry["npy"].get<std::string>();
          Tensor loaded = read_npy(resolve(spec.base_dir, file), param.tensor.dtype());
          if (loaded.shape() != param.tensor.shape())
            throw Error(fmt::format("{} has shape {}, but {}'s {} is {}", file, to_string(loaded.shape()),
                                    node.schema->name, decls[i].name, to_string(param.tensor.shape())),
                        {path + ".npy"});
          param.tensor = loaded;
          param.source = file;
        }
      } catch (const Error& e) {
        throw e.in({path, node.name, node.schema->name});
      }
    }
  }
}

}  // namespace mininn
