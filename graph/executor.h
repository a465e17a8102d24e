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
  // Inference only: hand values between oneDNN kernels in their own
  // layouts (CompiledGraph::layout). Off for comparisons.
  bool propagate_layouts = true;
};

// Where a compiled graph's memory goes (CompiledGraph::memory(), shown by
// `mininn inspect`). Every intermediate value lives in one arena per
// Execution at an offset the planner assigned by lifetime; values that a
// backward pass needs stay alive to the end, so they do not share.
struct MemoryPlan {
  size_t weights_bytes = 0;    // parameters and buffers
  size_t arena_bytes = 0;      // the intermediates, as planned
  size_t unplanned_bytes = 0;  // the same intermediates, one (64-byte aligned) buffer each
  size_t output_bytes = 0;     // graph outputs: buffers of their own, handed to the caller
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
  const MemoryPlan& memory() const { return memory_; }
  // The node an activation was fused into (Conv2d + ReLU), or -1.
  int fused_into(int node) const { return fused_into_[node]; }
  // The layout a value is kept in between its producer and its readers
  // (null: plain). Graph inputs and outputs are always plain.
  const TensorLayoutRef& layout(int value) const { return layouts_[storage_of_[value]]; }

 private:
  std::shared_ptr<const Graph> graph_;
  CompileOptions options_;
  std::vector<TensorDesc> descs_;                // concrete, per value
  std::vector<std::unique_ptr<Kernel>> kernels_;  // per node
  std::vector<int> fused_into_;                   // per node
  std::vector<PostOp> post_op_;                   // per node
  std::vector<int> storage_of_;                   // per value: the value whose buffer it uses (itself unless fused)
  std::vector<int64_t> offset_;                   // per value: arena offset, or -1 when not in the arena
  std::vector<TensorLayoutRef> layouts_;          // per value (its storage's entry counts)
  MemoryPlan memory_;
  void plan_fusion();
  void build_kernels();
  void plan_memory();
  friend class Execution;
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
  // Graph output `index`. The caller may keep it: the next forward writes
  // into a new buffer while the caller holds this one.
  Tensor output(size_t index) const;
  // Any value of the last forward. An intermediate lives in the arena, so
  // unless the graph was compiled for backward, a later node may have
  // reused its memory once every reader of it ran, and it may be in a
  // layout other than plain (CompiledGraph::layout): read graph outputs.
  const Tensor& value(int id) const { return values_[id]; }

  // Per-node wall time of every later forward and backward, in ms, indexed
  // by node id (0 for nodes that did not run); pass nullptr to stop.
  void time_nodes(std::vector<double>* forward_ms, std::vector<double>* backward_ms);

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
  std::vector<double>* forward_ms_ = nullptr;
  std::vector<double>* backward_ms_ = nullptr;
  std::shared_ptr<std::byte> arena_;
  // Backward's buffers, kept from one backward to the next (reusable()).
  std::vector<Tensor> grad_buffers_, param_grad_buffers_, zeros_, ones_;
  std::vector<std::vector<Tensor>> scratch_;  // per node input
};

}  // namespace mininn
