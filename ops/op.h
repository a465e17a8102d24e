// What an op is, in four separate steps (Caffe's split):
//   1. schema  — OpSchema: attribute table, inputs, outputs (ops/registry.h);
//   2. setup   — OpSchema::create parses the attributes once into an Op;
//   3. shape   — Op::infer, a pure function of the input descriptions;
//   4. kernels — Op::make_kernel builds a Kernel for concrete shapes and a
//                backend; Kernel::forward / Kernel::backward do no validation.
#pragma once

#include "framework/tensor.h"
#include "ops/attrs.h"

#include <mininn/backend.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mininn {

class Generator;

// How PyTorch initialises a parameter when the model gives no value.
struct DefaultInit {
  enum Kind { Zeros, Ones, Uniform } kind = Zeros;
  double bound = 0;  // Uniform: U(-bound, bound)
};

struct ParamDecl {
  std::string name;  // "weight": the full name is "<node>.weight"
  Shape shape;
  DefaultInit init;
  bool trainable = true;  // false for buffers such as BatchNorm's running statistics
  DType dtype = DType::Float32;  // int64 only for counters (BatchNorm's num_batches_tracked); never trainable
};

// Backend (Auto, OneDnn, Naive) and backend_name() are public: <mininn/backend.h>.

// Which implementation runs a node, per direction, and why when it is not
// oneDNN. Shown by `mininn inspect`.
struct Dispatch {
  std::string forward = "naive";
  std::string backward = "naive";
  std::string reason;  // why oneDNN does not run it (empty when it does, or was not asked)
  // The layout conversions a forward run makes at the node's edges, e.g.
  // "input 0: nchw -> nChw16c" (empty when it reads and writes what it is
  // handed).
  std::vector<std::string> conversions;
};

// A tensor layout other than plain row-major: one of oneDNN's own, such as
// nChw16c, in which consecutive oneDNN kernels hand a value over without
// converting it (layout propagation, graph/executor.cpp). Opaque outside
// ops/onednn; a null TensorLayoutRef means plain. Only layouts without
// padding are propagated, so a value takes the same bytes in any layout.
struct TensorLayout;
using TensorLayoutRef = std::shared_ptr<const TensorLayout>;
std::string layout_name(const TensorLayoutRef& layout);  // "nChw16c", or "plain" for null

// An elementwise activation folded into the node that produces its input
// (Conv2d + ReLU as one oneDNN primitive with a post-op). Only activations
// whose fused result is bit-identical to running them separately qualify.
struct PostOp {
  enum Kind { None, ReLU, LeakyReLU } kind = None;
  float negative_slope = 0;  // LeakyReLU
  explicit operator bool() const { return kind != None; }
};

// Everything a kernel may depend on, fixed when the graph is compiled.
struct KernelConfig {
  std::vector<TensorDesc> inputs;
  std::vector<TensorDesc> outputs;
  std::vector<TensorDesc> params;
  Backend backend = Backend::Auto;
  bool training = false;        // BatchNorm batch statistics, Dropout active
  bool needs_backward = false;  // keep what backward needs (indices, workspace)
  uint64_t seed = 0;            // for ops that draw random numbers
  // Set only for ops whose accepts_post_op() is true: apply it to the
  // (single) output before returning. Compiled graphs fuse only for
  // inference (no backward), so a kernel never differentiates through it.
  PostOp post_op = {};
  // Layout propagation (inference only): the layout each input arrives in
  // (empty, or null entries: plain), and whether the kernel may leave its
  // outputs in a layout of its choosing (else they must be plain). A kernel
  // says what it did in Kernel::layouts.
  std::vector<TensorLayoutRef> input_layouts = {};
  bool free_output_layouts = false;
};

// The layout input `index` is offered in (null: plain).
inline TensorLayoutRef offered_layout(const KernelConfig& config, size_t index) {
  return index < config.input_layouts.size() ? config.input_layouts[index] : nullptr;
}

// The layouts a kernel reads its inputs in and writes its outputs in (null:
// plain). inputs[i] is the layout offered for input i if the kernel takes it
// as it is, else null: the executor then has the producer make it plain.
struct KernelLayouts {
  std::vector<TensorLayoutRef> inputs, outputs;
};

// Per-execution scratch a kernel keeps between forward and backward (saved
// indices, oneDNN workspace). One per node per Execution, so one compiled
// graph can run on several threads at once.
struct KernelState {
  virtual ~KernelState() = default;
};

struct ForwardArgs {
  std::span<const Tensor> inputs;
  std::span<const Tensor> params;
  std::span<Tensor> outputs;  // allocated with the inferred shapes; the kernel fills them
  KernelState* state = nullptr;
  // The same parameters, writable, for the one change a forward may make: a
  // training-mode BatchNorm updates its running statistics (buffers) here.
  std::span<Tensor> buffers = {};
  // The Execution's random stream (Dropout's masks in training mode).
  Generator* generator = nullptr;
};

struct BackwardArgs {
  std::span<const Tensor> inputs;
  std::span<const Tensor> params;
  std::span<const Tensor> outputs;       // the forward results
  std::span<const Tensor> grad_outputs;  // undefined where no gradient flows back
  std::span<Tensor> grad_inputs;         // undefined where none is wanted; else overwrite
  std::span<Tensor> grad_params;         // overwrite (undefined when not wanted)
  KernelState* state = nullptr;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual std::unique_ptr<KernelState> make_state() const { return nullptr; }
  virtual void forward(const ForwardArgs& args) const = 0;
  virtual void backward(const BackwardArgs& args) const;  // default: "not differentiable"
  // Number of oneDNN primitives this kernel created (tests count them).
  virtual int primitives_created() const { return 0; }

  Dispatch dispatch;
  KernelLayouts layouts;  // empty: plain everywhere
};

// A node's operation with its attributes parsed. Immutable once created.
class Op {
 public:
  virtual ~Op() = default;

  virtual int num_outputs() const { return 1; }
  virtual std::vector<ParamDecl> params() const { return {}; }

  // The shape rule: output descriptions from input descriptions, or an Error
  // with PyTorch's message when the inputs do not fit. A leading kDynamic
  // batch must pass through unchanged.
  virtual std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const = 0;

  // Fusion (graph/executor.cpp): an op that can apply a PostOp to its output
  // says so; an activation op says which PostOp it is (None if none).
  virtual bool accepts_post_op() const { return false; }
  virtual PostOp as_post_op() const { return {}; }

  // False for an int64 indices output or input: no gradient flows there.
  virtual bool differentiable_output(int /*index*/) const { return true; }
  virtual bool differentiable_input(int /*index*/) const { return true; }

  // The kernel for concrete shapes. Implementations try oneDNN first when
  // config.backend allows it and fall back to the naive kernel, recording
  // the reason in Kernel::dispatch.
  virtual std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const = 0;
};

// Builds a node's kernel: oneDNN's when the backend allows it and `onednn`
// can run the node, else the naive one, recording why. `onednn(why)` returns
// nullptr and says why when it cannot run the configuration.
template <typename MakeOneDnn, typename MakeNaive>
std::unique_ptr<Kernel> pick_kernel(const KernelConfig& config, MakeOneDnn&& onednn, MakeNaive&& naive) {
  std::string why = "naive backend requested";
  if (config.backend != Backend::Naive) {
    why.clear();
    if (std::unique_ptr<Kernel> kernel = onednn(why)) return kernel;
  }
  std::unique_ptr<Kernel> kernel = naive();
  kernel->dispatch.reason = why;
  return kernel;
}

}  // namespace mininn
