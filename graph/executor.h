// Compile once, run many.
//
//   CompiledGraph plan(graph, {{1, 1, 512, 512}}, {.backend = Backend::Auto});
//   Execution run(plan);          // one per thread; holds every buffer
//   run.forward({image});
//   Tensor pooled = run.output(0);
//   run.backward({});             // ones for every float output
//   Tensor grad = run.param_grad(graph.find_param("conv.weight"));
//
// CompiledGraph fixes the concrete shapes and builds every kernel (oneDNN
// primitives included); it is immutable afterwards, so several Executions
// may run it at once. An Execution's forward/backward only bind buffers and
// call kernels.
#pragma once

#include "framework/rng.h"
#include "graph/graph.h"

#include <memory>
#include <utility>
#include <vector>

namespace mininn {

struct CompileOptions {
  Backend backend = Backend::Auto;
  bool training = false;  // BatchNorm batch statistics, Dropout active
  bool backward = false;  // keep what backward passes need
};

class CompiledGraph {
 public:
  // `input_shapes`: one per graph input, matching its declaration (a
  // dynamic batch may take any size).
  CompiledGraph(std::shared_ptr<const Graph> graph, const std::vector<Shape>& input_shapes, CompileOptions options);

  const Graph& graph() const { return *graph_; }
  const CompileOptions& options() const { return options_; }
  const TensorDesc& desc(int value) const { return descs_[value]; }
  const Kernel& kernel(int node) const { return *kernels_[node]; }
  int primitives_created() const;

 private:
  std::shared_ptr<const Graph> graph_;
  CompileOptions options_;
  std::vector<TensorDesc> descs_;                // concrete, per value
  std::vector<std::unique_ptr<Kernel>> kernels_;  // per node
};

class Execution {
 public:
  explicit Execution(const CompiledGraph& plan);

  // Runs the graph on `inputs`, one per graph input, shaped as compiled. In
  // training mode it also updates buffers (BatchNorm's running statistics)
  // in the graph's parameters and draws Dropout's masks from generator().
  void forward(const std::vector<Tensor>& inputs);

  // The random stream of training-mode ops: by default the Execution's own,
  // seeded with the graph's seed (torch.manual_seed(seed) just before the
  // first forward). use_generator shares one the caller keeps alive, so a
  // trainer can draw its shuffles and its Dropout masks from one stream, as
  // PyTorch's global generator does.
  Generator& generator() { return *generator_; }
  void use_generator(Generator& generator) { generator_ = &generator; }
  Tensor output(size_t index) const;  // graph output `index`
  const Tensor& value(int id) const { return values_[id]; }

  // Back-propagates `seeds` (value id → upstream gradient, shaped like the
  // value); with no seeds, ones for every float output.
  void backward(const std::vector<std::pair<int, Tensor>>& seeds);
  // The gradient of a value or parameter; undefined when none reached it.
  const Tensor& grad(int value) const { return grads_[value]; }
  const Tensor& param_grad(int param) const { return param_grads_[param]; }

 private:
  const CompiledGraph& plan_;
  std::vector<Tensor> values_, grads_, param_grads_;
  std::vector<std::unique_ptr<KernelState>> states_;
  Generator own_generator_;
  Generator* generator_ = &own_generator_;
  bool ran_forward_ = false;
};

}  // namespace mininn
