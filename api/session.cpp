// Session: one compiled model and the buffers of one run.
#include "api/internal.h"
#include "framework/strings.h"

#include <mininn/model.h>

#include <algorithm>
#include <cstring>

namespace mininn {
namespace {

std::vector<std::string> names_of(const std::vector<TensorInfo>& infos) {
  std::vector<std::string> names;
  for (const TensorInfo& info : infos) names.push_back(info.name);
  return names;
}

// The position of a model output, with a hint when the name is a value that
// is simply not an output.
size_t output_index(const Graph& g, const std::vector<TensorInfo>& outputs, std::string_view name) {
  std::vector<std::string> names = names_of(outputs);
  auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return static_cast<size_t>(it - names.begin());
  check(g.find_value(std::string(name)) < 0,
        "'{}' is not an output of the model, so the session does not keep it; list it in the model's outputs to read it",
        name);
  return api::find_name(names, name, "the model has no output", "its outputs");
}

}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

Session Session::fork() const {
  return api::guarded([&] {
    auto impl = std::make_unique<Impl>();
    impl->model = impl_->model;
    impl->plan = impl_->plan;
    impl->execution = std::make_unique<Execution>(*impl->plan);
    impl->options = impl_->options;
    impl->inputs = impl_->inputs;
    impl->outputs = impl_->outputs;
    impl->bound.resize(impl_->bound.size());
    return Session(std::move(impl));
  });
}

Model Session::model() const { return Model(impl_->model); }
const SessionOptions& Session::options() const { return impl_->options; }
const std::vector<TensorInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Session::outputs() const { return impl_->outputs; }

std::vector<NodeInfo> Session::nodes() const {
  const CompiledGraph& plan = *impl_->plan;
  const Graph& g = plan.graph();
  std::vector<NodeInfo> out;
  for (int n : g.schedule) {
    const Node& node = g.nodes[n];
    NodeInfo info;
    info.name = node.name;
    info.op = node.schema->name;
    info.attributes = node.attrs_summary;
    for (int v : node.inputs) info.inputs.push_back(g.values[v].name);
    for (int v : node.outputs) {
      info.outputs.push_back(g.values[v].name);
      info.output_shapes.push_back(plan.desc(v).shape);
    }
    for (int p : node.params) info.parameters.push_back(g.params[p].name);
    const Dispatch& dispatch = plan.kernel(n).dispatch;
    info.forward_backend = dispatch.forward;
    info.backward_backend = dispatch.backward;
    info.fallback_reason = dispatch.reason;
    out.push_back(std::move(info));
  }
  return out;
}

void Session::forward(const std::vector<Tensor>& inputs) {
  api::guarded([&] {
    Impl& s = *impl_;
    s.ran_forward = s.ran_backward = false;
    s.execution->forward(inputs);
    for (size_t i = 0; i < s.bound.size(); ++i) {
      if (!s.bound[i].defined()) continue;
      Tensor result = s.execution->output(i);
      if (result.nbytes() && result.raw() != s.bound[i].raw())
        std::memcpy(s.bound[i].raw(), result.raw(), result.nbytes());
    }
    s.ran_forward = true;
  });
}

void Session::forward(const NamedTensors& inputs) {
  api::guarded([&] {
    std::vector<std::string> names = names_of(impl_->inputs);
    std::vector<Tensor> ordered(names.size());
    for (const auto& [name, tensor] : inputs) {
      size_t i = api::find_name(names, name, "the model has no input", "its inputs");
      check(!ordered[i].defined(), "input '{}' is given twice", name);
      check(tensor.defined(), "input '{}' is an empty tensor", name);
      ordered[i] = tensor;
    }
    for (size_t i = 0; i < names.size(); ++i)
      check(ordered[i].defined(), "input '{}' {} is not given", names[i],
            to_string(TensorDesc{impl_->inputs[i].dtype, impl_->inputs[i].shape}));
    forward(ordered);
  });
}

Tensor Session::output(size_t index) const {
  return api::guarded([&] {
    const Impl& s = *impl_;
    check(index < s.outputs.size(), "output index {} is out of range: the model has {} output{}", index,
          s.outputs.size(), s.outputs.size() == 1 ? "" : "s");
    check(s.ran_forward, "no output yet: call forward first");
    return s.bound[index].defined() ? s.bound[index] : s.execution->output(index);
  });
}

Tensor Session::output(std::string_view name) const {
  return api::guarded([&] { return output(output_index(impl_->plan->graph(), impl_->outputs, name)); });
}

void Session::bind_output(std::string_view name, Tensor destination) {
  api::guarded([&] {
    Impl& s = *impl_;
    size_t i = output_index(s.plan->graph(), s.outputs, name);
    TensorDesc want{s.outputs[i].dtype, s.outputs[i].shape};
    check(destination.defined() && destination.desc() == want, "bind_output('{}'): the output is {}, but the tensor is {}",
          name, to_string(want), destination.defined() ? to_string(destination.desc()) : "empty");
    s.bound[i] = destination;
  });
}

void Session::backward() { backward(NamedTensors{}); }

void Session::backward(const NamedTensors& grad_outputs) {
  api::guarded([&] {
    Impl& s = *impl_;
    check(s.options.backward, "this session was compiled without backward: compile with SessionOptions::backward = true");
    check(s.ran_forward, "backward needs a forward pass first");
    const Graph& g = s.plan->graph();
    std::vector<std::pair<int, Tensor>> seeds;
    for (const auto& [name, gradient] : grad_outputs) {
      int v = g.outputs[output_index(s.plan->graph(), s.outputs, name)];
      for (const auto& seed : seeds) check(seed.first != v, "the gradient of '{}' is given twice", name);
      seeds.emplace_back(v, gradient);
    }
    s.ran_backward = false;
    s.execution->backward(seeds);
    s.ran_backward = true;
  });
}

Tensor Session::grad(std::string_view value) const {
  return api::guarded([&] {
    const Impl& s = *impl_;
    const Graph& g = s.plan->graph();
    std::vector<std::string> names = names_of(s.inputs);
    for (const TensorInfo& output : s.outputs) names.push_back(output.name);
    check(g.find_value(std::string(value)) < 0 || std::find(names.begin(), names.end(), value) != names.end(),
          "'{}' is neither an input nor an output of the model, so the session does not keep its gradient; list it in "
          "the model's outputs to read it",
          value);
    api::find_name(names, value, "the model has no input or output", "its inputs and outputs");
    int id = g.find_value(std::string(value));
    const TensorDesc& desc = s.plan->desc(id);
    check(desc.dtype == DType::Float32, "'{}' is int64 and carries no gradient", value);
    for (const GraphInput& input : g.inputs)
      check(input.value != id || input.requires_grad,
            "input '{}' is declared with requires_grad false, so it has no gradient", value);
    check(s.ran_backward, "no gradients yet: call backward after forward");
    const Tensor& gradient = s.execution->grad(id);
    return gradient.defined() ? gradient : Tensor::zeros(desc.shape);
  });
}

Tensor Session::param_grad(std::string_view parameter) const {
  return api::guarded([&] {
    const Impl& s = *impl_;
    const Graph& g = s.plan->graph();
    std::vector<std::string> names;
    for (const Parameter& p : g.params) names.push_back(p.name);
    size_t p = api::find_name(names, parameter, "the model has no parameter", "its parameters");
    check(g.params[p].trainable, "'{}' is a buffer, not a trainable parameter, and has no gradient", parameter);
    check(s.ran_backward, "no gradients yet: call backward after forward");
    const Tensor& gradient = s.execution->param_grad(static_cast<int>(p));
    return gradient.defined() ? gradient : Tensor::zeros(g.params[p].tensor.shape());
  });
}

}  // namespace mininn
