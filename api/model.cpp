// Model: the handle onto a validated graph and its parameters.
#include "api/internal.h"
#include "framework/strings.h"

#include <mininn/model.h>

#include <algorithm>
#include <cstring>

namespace mininn {
namespace api {

size_t find_name(const std::vector<std::string>& names, std::string_view name, const std::string& unknown,
                 const std::string& list_name) {
  auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return static_cast<size_t>(it - names.begin());
  throw Error(fmt::format("{} '{}'{}; {}: {}", unknown, name, did_you_mean(name, names), list_name,
                          names.empty() ? std::string("none") : join(names)));
}

}  // namespace api

namespace {

std::vector<std::string> parameter_names(const Graph& graph) {
  std::vector<std::string> names;
  for (const Parameter& p : graph.params) names.push_back(p.name);
  return names;
}

size_t find_parameter(const Graph& graph, std::string_view name) {
  return api::find_name(parameter_names(graph), name, "the model has no parameter", "its parameters");
}

}  // namespace

Model::Model(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Model Model::load(const std::string& path) {
  return api::guarded([&] { return Model(std::make_shared<Impl>(Impl{std::make_shared<Graph>(load_model(path))})); });
}

Model Model::parse(std::string_view json, const std::string& source, const std::string& base_dir) {
  return api::guarded([&] {
    return Model(std::make_shared<Impl>(Impl{std::make_shared<Graph>(parse_model(std::string(json), source, base_dir))}));
  });
}

const std::string& Model::name() const { return impl_->graph->name; }
uint64_t Model::seed() const { return impl_->graph->seed; }

std::vector<TensorInfo> Model::inputs() const {
  const Graph& g = *impl_->graph;
  std::vector<TensorInfo> out;
  for (const GraphInput& input : g.inputs) {
    const Value& v = g.values[input.value];
    out.push_back({v.name, v.desc.dtype, v.desc.shape, input.requires_grad});
  }
  return out;
}

std::vector<TensorInfo> Model::outputs() const {
  const Graph& g = *impl_->graph;
  std::vector<TensorInfo> out;
  for (int id : g.outputs) {
    const Value& v = g.values[id];
    out.push_back({v.name, v.desc.dtype, v.desc.shape, v.requires_grad});
  }
  return out;
}

std::vector<ParameterInfo> Model::parameters() const {
  std::vector<ParameterInfo> out;
  for (const Parameter& p : impl_->graph->params)
    out.push_back({p.name, p.tensor.dtype(), p.tensor.shape(), p.trainable, p.source});
  return out;
}

Tensor Model::parameter(std::string_view name) const {
  return api::guarded([&] { return impl_->graph->params[find_parameter(*impl_->graph, name)].tensor.clone(); });
}

void Model::set_parameter(std::string_view name, const Tensor& values) {
  api::guarded([&] {
    Parameter& p = impl_->graph->params[find_parameter(*impl_->graph, name)];
    check(values.defined(), "set_parameter('{}'): the tensor is empty", p.name);
    check(values.desc() == p.tensor.desc(), "set_parameter('{}'): the parameter is {}, but the tensor is {}", p.name,
          to_string(p.tensor.desc()), to_string(values.desc()));
    // Copied into the storage the graph, and every session compiled from it, reads.
    if (p.tensor.nbytes() && p.tensor.raw() != values.raw()) std::memmove(p.tensor.raw(), values.raw(), p.tensor.nbytes());
    p.source = "set_parameter";
  });
}

Session Model::compile(const SessionOptions& options) const {
  return api::guarded([&] {
    const Graph& g = *impl_->graph;
    std::vector<Shape> shapes = options.input_shapes;
    if (shapes.empty()) {
      check(options.batch >= 0, "SessionOptions::batch must not be negative, but is {}", options.batch);
      for (const GraphInput& input : g.inputs) shapes.push_back(with_batch(g.values[input.value].desc.shape, options.batch));
    }
    CompileOptions compile_options;
    compile_options.backend = options.backend;
    compile_options.training = options.training;
    compile_options.backward = options.backward;

    auto impl = std::make_unique<Session::Impl>();
    impl->model = impl_;
    impl->plan = std::make_shared<const CompiledGraph>(impl_->graph, shapes, compile_options);
    impl->execution = std::make_unique<Execution>(*impl->plan);
    impl->options = options;
    impl->options.input_shapes = shapes;
    for (const GraphInput& input : g.inputs) {
      const Value& v = g.values[input.value];
      const TensorDesc& desc = impl->plan->desc(input.value);
      impl->inputs.push_back({v.name, desc.dtype, desc.shape, input.requires_grad});
    }
    for (int id : g.outputs) {
      const TensorDesc& desc = impl->plan->desc(id);
      impl->outputs.push_back({g.values[id].name, desc.dtype, desc.shape, g.values[id].requires_grad});
    }
    impl->bound.resize(g.outputs.size());
    return Session(std::move(impl));
  });
}

}  // namespace mininn
