#include "graph/executor.h"

#include "framework/error.h"
#include "graph/limits.h"

#include <fmt/format.h>

#include <exception>

namespace mininn {
namespace {

Error::Where where_of(const Node& node) { return {node.path, node.name, node.schema->name}; }

// Runs `body` and re-throws any failure located at `node`.
template <typename Body>
void at_node(const Node& node, Body&& body) {
  try {
    body();
  } catch (const Error& e) {
    throw e.in(where_of(node));
  } catch (const std::bad_alloc&) {
    throw Error("out of memory", where_of(node));
  } catch (const std::exception& e) {
    throw Error(fmt::format("internal error: {}", e.what()), where_of(node));
  }
}

void add_into(Tensor& sum, const Tensor& addend) {
  float* s = sum.f32();
  const float* a = addend.f32();
  for (int64_t i = 0; i < sum.numel(); ++i) s[i] += a[i];
}

}  // namespace

CompiledGraph::CompiledGraph(std::shared_ptr<const Graph> graph, const std::vector<Shape>& input_shapes,
                             CompileOptions options)
    : graph_(std::move(graph)), options_(options) {
  const Graph& g = *graph_;
  check(input_shapes.size() == g.inputs.size(), "the model has {} input{}, but {} shape{} given", g.inputs.size(),
        g.inputs.size() == 1 ? "" : "s", input_shapes.size(), input_shapes.size() == 1 ? " was" : "s were");
  descs_.resize(g.values.size());
  for (size_t v = 0; v < g.values.size(); ++v) descs_[v] = g.values[v].desc;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Value& value = g.values[g.inputs[i].value];
    const Shape& declared = value.desc.shape;
    const Shape& given = input_shapes[i];
    bool fits = declared.size() == given.size();
    for (size_t d = 0; fits && d < given.size(); ++d)
      fits = given[d] >= 0 && (declared[d] == given[d] || (d == 0 && declared[d] == kDynamic));
    check(fits, "input '{}': the model declares shape {}, but got {}", value.name, to_string(declared), to_string(given));
    descs_[g.inputs[i].value].shape = given;
  }
  // Shapes again with the concrete batch (ops are pure; this is cheap).
  for (int n : g.schedule) {
    const Node& node = g.nodes[n];
    at_node(node, [&] {
      std::vector<TensorDesc> inputs;
      for (int v : node.inputs) inputs.push_back(descs_[v]);
      std::vector<TensorDesc> outputs = node.op->infer(inputs);
      for (size_t i = 0; i < outputs.size(); ++i) {
        check_tensor_bytes(outputs[i].shape, outputs[i].dtype, "output '" + g.values[node.outputs[i]].name + "'");
        descs_[node.outputs[i]] = outputs[i];
      }
    });
  }
  check_compiled_bytes(g, descs_, options.backward);  // before any kernel allocates
  kernels_.resize(g.nodes.size());
  for (int n : g.schedule) {
    const Node& node = g.nodes[n];
    KernelConfig config;
    for (int v : node.inputs) config.inputs.push_back(descs_[v]);
    for (int v : node.outputs) config.outputs.push_back(descs_[v]);
    for (int p : node.params) config.params.push_back(g.params[p].tensor.desc());
    config.backend = options.backend;
    config.training = options.training;
    config.needs_backward = options.backward;
    config.seed = g.seed;
    at_node(node, [&] { kernels_[n] = node.op->make_kernel(config); });
  }
}

int CompiledGraph::primitives_created() const {
  int count = 0;
  for (const auto& kernel : kernels_) count += kernel->primitives_created();
  return count;
}

Execution::Execution(const CompiledGraph& plan) : plan_(plan), own_generator_(plan.graph().seed) {
  const Graph& g = plan.graph();
  values_.resize(g.values.size());
  grads_.resize(g.values.size());
  param_grads_.resize(g.params.size());
  states_.resize(g.nodes.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) at_node(g.nodes[n], [&] { states_[n] = plan.kernel(n).make_state(); });
}

void Execution::forward(const std::vector<Tensor>& inputs) {
  const Graph& g = plan_.graph();
  check(inputs.size() == g.inputs.size(), "the model has {} inputs, but {} were given", g.inputs.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    int v = g.inputs[i].value;
    check(inputs[i].defined() && inputs[i].desc() == plan_.desc(v), "input '{}': expected {}, but got {}", g.values[v].name,
          to_string(plan_.desc(v)), inputs[i].defined() ? to_string(inputs[i].desc()) : "nothing");
    values_[v] = inputs[i];
  }
  std::vector<Tensor> node_inputs, node_params, node_outputs;
  for (int n : g.schedule) {
    const Node& node = g.nodes[n];
    at_node(node, [&] {
      node_inputs.clear();
      node_params.clear();
      node_outputs.clear();
      for (int v : node.inputs) node_inputs.push_back(values_[v]);
      for (int p : node.params) node_params.push_back(g.params[p].tensor);
      for (int v : node.outputs) node_outputs.push_back(Tensor::empty(plan_.desc(v).shape, plan_.desc(v).dtype));
      plan_.kernel(n).forward({node_inputs, node_params, node_outputs, states_[n].get(), node_params, generator_});
      for (size_t i = 0; i < node.outputs.size(); ++i) values_[node.outputs[i]] = node_outputs[i];
    });
  }
  ran_forward_ = true;
}

Tensor Execution::output(size_t index) const { return values_[plan_.graph().outputs.at(index)]; }

void Execution::backward(const std::vector<std::pair<int, Tensor>>& seeds) {
  const Graph& g = plan_.graph();
  check(ran_forward_, "backward needs a forward pass first");
  check(plan_.options().backward, "the graph was compiled without backward support (CompileOptions::backward)");
  for (Tensor& t : grads_) t = Tensor();
  for (Tensor& t : param_grads_) t = Tensor();

  auto seed = [&](int v, const Tensor& gradient) {
    if (!g.values[v].requires_grad) return;  // nothing upstream needs it
    if (!grads_[v].defined()) grads_[v] = gradient.clone();
    else add_into(grads_[v], gradient);
  };
  if (seeds.empty()) {
    for (int v : g.outputs)
      if (plan_.desc(v).dtype == DType::Float32) seed(v, Tensor::full(plan_.desc(v).shape, 1.0f));
  }
  for (const auto& [v, gradient] : seeds) {
    check(plan_.desc(v).dtype == DType::Float32, "'{}' is an int64 value and carries no gradient", g.values[v].name);
    check(gradient.defined() && gradient.desc() == plan_.desc(v), "the gradient of '{}' must be {}, but got {}",
          g.values[v].name, to_string(plan_.desc(v)), gradient.defined() ? to_string(gradient.desc()) : "nothing");
    seed(v, gradient);
  }

  std::vector<Tensor> node_inputs, node_params, node_outputs, grad_outputs, grad_inputs, grad_params;
  for (auto it = g.schedule.rbegin(); it != g.schedule.rend(); ++it) {
    const Node& node = g.nodes[*it];
    bool reached = false;
    for (int v : node.outputs) reached = reached || grads_[v].defined();
    if (!reached) continue;
    at_node(node, [&] {
      node_inputs.clear();
      node_params.clear();
      node_outputs.clear();
      grad_outputs.clear();
      grad_inputs.clear();
      grad_params.clear();
      bool wanted = false;
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        int v = node.inputs[i];
        node_inputs.push_back(values_[v]);
        bool want = g.values[v].requires_grad && node.op->differentiable_input(static_cast<int>(i));
        grad_inputs.push_back(want ? Tensor::empty(plan_.desc(v).shape) : Tensor());
        wanted = wanted || want;
      }
      for (int p : node.params) {
        node_params.push_back(g.params[p].tensor);
        bool want = g.params[p].trainable;
        grad_params.push_back(want ? Tensor::empty(g.params[p].tensor.shape()) : Tensor());
        wanted = wanted || want;
      }
      if (!wanted) return;
      for (size_t i = 0; i < node.outputs.size(); ++i) {
        int v = node.outputs[i];
        node_outputs.push_back(values_[v]);
        // A differentiable output nothing flowed into contributes zeros.
        bool differentiable = node.op->differentiable_output(static_cast<int>(i)) && g.values[v].requires_grad;
        grad_outputs.push_back(grads_[v].defined()  ? grads_[v]
                               : differentiable     ? Tensor::zeros(plan_.desc(v).shape)
                                                    : Tensor());
      }
      plan_.kernel(*it).backward(
          {node_inputs, node_params, node_outputs, grad_outputs, grad_inputs, grad_params, states_[*it].get()});
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        if (!grad_inputs[i].defined()) continue;
        Tensor& sum = grads_[node.inputs[i]];
        if (!sum.defined()) sum = grad_inputs[i];
        else add_into(sum, grad_inputs[i]);  // a value feeding several nodes sums their gradients
      }
      for (size_t i = 0; i < node.params.size(); ++i)
        if (grad_params[i].defined()) param_grads_[node.params[i]] = grad_params[i];
    });
  }
}

}  // namespace mininn
