#include "graph/executor.h"

#include "framework/error.h"
#include "graph/limits.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <numeric>

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

// The kernel of an activation folded into its producer: never runs.
class FusedKernel final : public Kernel {
 public:
  explicit FusedKernel(const std::string& into) {
    dispatch.forward = dispatch.backward = fmt::format("fused into '{}'", into);
  }
  void forward(const ForwardArgs&) const override {}
};

constexpr size_t kArenaAlign = 64;

size_t aligned_bytes(const TensorDesc& desc) {
  size_t bytes = checked_bytes(desc);
  return (bytes + kArenaAlign - 1) / kArenaAlign * kArenaAlign;
}

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// `slot` when no one else holds it (the caller let go of last backward's
// gradient), else a new buffer kept there for next time.
Tensor& reusable(Tensor& slot, const Shape& shape) {
  if (!slot.sole_owner()) slot = Tensor::empty(shape);
  return slot;
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
  plan_fusion();
  build_kernels();
  plan_memory();
}

// Every node's kernel, with layout propagation for inference on the oneDNN
// backends: a value that a oneDNN kernel produces and only oneDNN kernels
// read stays in the producer's layout (nChw16c after a convolution), so
// neither side converts it. Graph outputs stay plain, and so does a value
// some reader cannot take as it is: its producer converts it instead. Each
// kernel says what it took and gave (Kernel::layouts); a round that finds an
// offer refused marks that value plain and builds again. Values only ever go
// back to plain, so the rounds end, after one in the usual case.
void CompiledGraph::build_kernels() {
  const Graph& g = *graph_;
  const bool propagate =
      options_.propagate_layouts && !options_.backward && options_.backend != Backend::Naive;
  std::vector<bool> plain_only(g.values.size(), false);  // by storage
  for (int v : g.outputs) plain_only[storage_of_[v]] = true;
  kernels_.resize(g.nodes.size());
  for (bool settled = false; !settled;) {
    layouts_.assign(g.values.size(), nullptr);
    for (int n : g.schedule) {
      const Node& node = g.nodes[n];
      if (fused_into_[n] >= 0) {
        kernels_[n] = std::make_unique<FusedKernel>(g.nodes[fused_into_[n]].name);
        continue;
      }
      KernelConfig config;
      config.post_op = post_op_[n];
      for (int v : node.inputs) config.inputs.push_back(descs_[v]);
      for (int v : node.outputs) config.outputs.push_back(descs_[v]);
      for (int p : node.params) config.params.push_back(g.params[p].tensor.desc());
      config.backend = options_.backend;
      config.training = options_.training;
      config.needs_backward = options_.backward;
      config.seed = g.seed;
      if (propagate) {
        for (int v : node.inputs) config.input_layouts.push_back(layouts_[storage_of_[v]]);
        config.free_output_layouts = true;
        for (int v : node.outputs)
          config.free_output_layouts = config.free_output_layouts && !plain_only[storage_of_[v]];
      }
      at_node(node, [&] { kernels_[n] = node.op->make_kernel(config); });
      const std::vector<TensorLayoutRef>& given = kernels_[n]->layouts.outputs;
      for (size_t i = 0; i < given.size() && i < node.outputs.size(); ++i) {
        // A kernel not free to choose leaves plain outputs (else the rounds would not end).
        if (given[i] && !config.free_output_layouts)
          throw Error("internal error: a kernel chose an output layout it was not free to choose", where_of(node));
        layouts_[storage_of_[node.outputs[i]]] = given[i];
      }
    }
    settled = true;
    for (int n : g.schedule) {
      if (fused_into_[n] >= 0) continue;
      const Node& node = g.nodes[n];
      const std::vector<TensorLayoutRef>& taken = kernels_[n]->layouts.inputs;
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        const int root = storage_of_[node.inputs[i]];
        if (!layouts_[root] || (i < taken.size() && taken[i] == layouts_[root])) continue;
        plain_only[root] = true;
        settled = false;
      }
    }
  }
}

// Conv2d + ReLU: an activation whose input only it reads, produced by an op
// that can apply it as a post-op, runs inside that op. Only for inference on
// the oneDNN-enabled backends: backward needs the pre-activation values, and
// the naive backend keeps one reference kernel per node.
void CompiledGraph::plan_fusion() {
  const Graph& g = *graph_;
  fused_into_.assign(g.nodes.size(), -1);
  post_op_.assign(g.nodes.size(), PostOp{});
  storage_of_.resize(g.values.size());
  std::iota(storage_of_.begin(), storage_of_.end(), 0);
  if (options_.backward || options_.backend == Backend::Naive) return;
  std::vector<int> readers(g.values.size(), 0);
  for (const Node& node : g.nodes)
    for (int v : node.inputs) ++readers[v];
  for (int v : g.outputs) ++readers[v];  // a graph output is read by the caller
  for (int n : g.schedule) {
    const Node& node = g.nodes[n];
    PostOp post = node.op->as_post_op();
    if (!post || node.inputs.size() != 1 || node.outputs.size() != 1) continue;
    int v = node.inputs[0];
    int producer = g.values[v].producer;
    if (producer < 0 || readers[v] != 1 || descs_[v] != descs_[node.outputs[0]]) continue;
    const Node& into = g.nodes[producer];
    if (!into.op->accepts_post_op() || into.outputs.size() != 1 || post_op_[producer]) continue;
    fused_into_[n] = producer;
    post_op_[producer] = post;
    storage_of_[node.outputs[0]] = storage_of_[v];
  }
}

// Every value a node produces, except graph outputs, gets an offset in one
// arena. Two values may overlap only if their lifetimes (from the step that
// produces them to the last step that reads them) do not; compiled for
// backward, every value lives to the end. Largest first, each at the lowest
// offset that fits between the blocks already placed that it meets.
void CompiledGraph::plan_memory() {
  const Graph& g = *graph_;
  const size_t count = g.values.size();
  offset_.assign(count, -1);
  memory_ = {};
  for (const Parameter& p : g.params) memory_.weights_bytes += p.tensor.nbytes();

  std::vector<int> position(g.nodes.size(), 0);
  for (size_t i = 0; i < g.schedule.size(); ++i) position[g.schedule[i]] = static_cast<int>(i);
  std::vector<int> first(count, -1), last(count, -1);
  std::vector<bool> is_output(count, false);
  for (int v : g.outputs) is_output[storage_of_[v]] = true;
  for (size_t v = 0; v < count; ++v) {
    if (g.values[v].producer < 0) continue;  // a graph input: the caller's
    int root = storage_of_[v], step = position[g.values[v].producer];
    if (first[root] < 0 || step < first[root]) first[root] = step;
    last[root] = std::max(last[root], step);
  }
  for (int n : g.schedule)
    for (int v : g.nodes[n].inputs)
      if (first[storage_of_[v]] >= 0) last[storage_of_[v]] = std::max(last[storage_of_[v]], position[n]);

  std::vector<int> roots;
  for (size_t v = 0; v < count; ++v) {
    if (first[v] < 0 || storage_of_[v] != static_cast<int>(v)) continue;
    if (is_output[v]) {
      memory_.output_bytes += checked_bytes(descs_[v]);
      continue;
    }
    memory_.unplanned_bytes += aligned_bytes(descs_[v]);
    if (options_.backward) last[v] = static_cast<int>(g.schedule.size());
    roots.push_back(static_cast<int>(v));
  }
  std::stable_sort(roots.begin(), roots.end(),
                   [&](int a, int b) { return aligned_bytes(descs_[a]) > aligned_bytes(descs_[b]); });
  std::vector<int> placed;
  for (int v : roots) {
    std::vector<std::pair<int64_t, int64_t>> taken;  // [begin, end) of placed blocks alive at the same time
    for (int w : placed)
      if (first[w] <= last[v] && first[v] <= last[w])
        taken.emplace_back(offset_[w], offset_[w] + static_cast<int64_t>(aligned_bytes(descs_[w])));
    std::sort(taken.begin(), taken.end());
    const auto size = static_cast<int64_t>(aligned_bytes(descs_[v]));
    int64_t at = 0;
    for (const auto& [begin, end] : taken) {
      if (begin - at >= size) break;
      at = std::max(at, end);
    }
    offset_[v] = at;
    memory_.arena_bytes = std::max(memory_.arena_bytes, static_cast<size_t>(at + size));
    placed.push_back(v);
  }
  for (size_t v = 0; v < count; ++v)
    if (storage_of_[v] != static_cast<int>(v)) offset_[v] = offset_[storage_of_[v]];
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
  grad_buffers_.resize(g.values.size());
  param_grad_buffers_.resize(g.params.size());
  zeros_.resize(g.values.size());
  ones_.resize(g.values.size());
  scratch_.resize(g.nodes.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) scratch_[n].resize(g.nodes[n].inputs.size());
  states_.resize(g.nodes.size());
  for (size_t n = 0; n < g.nodes.size(); ++n) at_node(g.nodes[n], [&] { states_[n] = plan.kernel(n).make_state(); });
  // The arena, once: every planned value is a view into it from now on.
  if (size_t bytes = plan.memory().arena_bytes) {
    void* memory = std::aligned_alloc(kArenaAlign, bytes);
    if (!memory) throw Error(fmt::format("out of memory: the graph's arena needs {} bytes", bytes));
    arena_ = std::shared_ptr<std::byte>(static_cast<std::byte*>(memory), [](std::byte* p) { std::free(p); });
  }
  for (size_t v = 0; v < g.values.size(); ++v)
    if (plan.offset_[v] >= 0)
      values_[v] = Tensor::wrap(arena_.get() + plan.offset_[v], plan.desc(v).shape, plan.desc(v).dtype);
}

void Execution::time_nodes(std::vector<double>* forward_ms, std::vector<double>* backward_ms) {
  forward_ms_ = forward_ms;
  backward_ms_ = backward_ms;
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
  if (forward_ms_) forward_ms_->assign(g.nodes.size(), 0.0);
  for (int n : g.schedule)  // drop last run's handles on a fused output, so its buffer can be reused
    if (plan_.fused_into(n) >= 0 && plan_.offset_[g.nodes[n].outputs[0]] < 0) values_[g.nodes[n].outputs[0]] = Tensor();
  std::vector<Tensor> node_inputs, node_params, node_outputs;
  for (int n : g.schedule) {
    const Node& node = g.nodes[n];
    if (plan_.fused_into(n) >= 0) {  // its producer already applied it, in place
      values_[node.outputs[0]] = values_[node.inputs[0]];
      continue;
    }
    Clock::time_point start = Clock::now();
    at_node(node, [&] {
      node_inputs.clear();
      node_params.clear();
      node_outputs.clear();
      for (int v : node.inputs) node_inputs.push_back(values_[v]);
      for (int p : node.params) node_params.push_back(g.params[p].tensor);
      for (int v : node.outputs) {
        // In the arena, or a graph output: a buffer of its own, reused
        // unless the caller still holds the last one.
        bool reuse = plan_.offset_[v] >= 0 || values_[v].sole_owner();
        node_outputs.push_back(reuse ? values_[v] : Tensor::empty(plan_.desc(v).shape, plan_.desc(v).dtype));
      }
      plan_.kernel(n).forward({node_inputs, node_params, node_outputs, states_[n].get(), node_params, generator_});
      for (size_t i = 0; i < node.outputs.size(); ++i) values_[node.outputs[i]] = node_outputs[i];
    });
    if (forward_ms_) (*forward_ms_)[n] = ms_since(start);
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
    if (grads_[v].defined()) return add_into(grads_[v], gradient);
    grads_[v] = reusable(grad_buffers_[v], plan_.desc(v).shape);
    std::memcpy(grads_[v].raw(), gradient.raw(), gradient.nbytes());
  };
  if (seeds.empty()) {
    for (int v : g.outputs) {
      if (plan_.desc(v).dtype != DType::Float32) continue;
      if (!ones_[v].defined()) ones_[v] = Tensor::full(plan_.desc(v).shape, 1.0f);
      seed(v, ones_[v]);
    }
  }
  for (const auto& [v, gradient] : seeds) {
    check(plan_.desc(v).dtype == DType::Float32, "'{}' is an int64 value and carries no gradient", g.values[v].name);
    check(gradient.defined() && gradient.desc() == plan_.desc(v), "the gradient of '{}' must be {}, but got {}",
          g.values[v].name, to_string(plan_.desc(v)), gradient.defined() ? to_string(gradient.desc()) : "nothing");
    seed(v, gradient);
  }

  if (backward_ms_) backward_ms_->assign(g.nodes.size(), 0.0);
  std::vector<Tensor> node_inputs, node_params, node_outputs, grad_outputs, grad_inputs, grad_params;
  for (auto it = g.schedule.rbegin(); it != g.schedule.rend(); ++it) {
    const Node& node = g.nodes[*it];
    bool reached = false;
    for (int v : node.outputs) reached = reached || grads_[v].defined();
    if (!reached) continue;
    Clock::time_point start = Clock::now();
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
        // The first contribution to a value's gradient goes straight into its
        // buffer; a later one (another reader, or the same value read twice
        // by this node) into this input's scratch, then summed.
        bool first = want && !grads_[v].defined();
        for (size_t j = 0; first && j < i; ++j) first = node.inputs[j] != v || !grad_inputs[j].defined();
        grad_inputs.push_back(!want  ? Tensor()
                              : first ? reusable(grad_buffers_[v], plan_.desc(v).shape)
                                      : reusable(scratch_[*it][i], plan_.desc(v).shape));
        wanted = wanted || want;
      }
      for (int p : node.params) {
        node_params.push_back(g.params[p].tensor);
        bool want = g.params[p].trainable;
        grad_params.push_back(want ? reusable(param_grad_buffers_[p], g.params[p].tensor.shape()) : Tensor());
        wanted = wanted || want;
      }
      if (!wanted) return;
      for (size_t i = 0; i < node.outputs.size(); ++i) {
        int v = node.outputs[i];
        node_outputs.push_back(values_[v]);
        // A differentiable output nothing flowed into contributes zeros.
        bool differentiable = node.op->differentiable_output(static_cast<int>(i)) && g.values[v].requires_grad;
        if (!grads_[v].defined() && differentiable && !zeros_[v].defined()) zeros_[v] = Tensor::zeros(plan_.desc(v).shape);
        grad_outputs.push_back(grads_[v].defined() ? grads_[v] : differentiable ? zeros_[v] : Tensor());
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
    if (backward_ms_) (*backward_ms_)[*it] = ms_since(start);
  }
}

}  // namespace mininn
