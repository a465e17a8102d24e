// Models and sessions: load or build a network, compile it for shapes and a
// backend, run it forward and backward.
//
//   mininn::Model model = mininn::Model::load("net.json");
//   mininn::Session session = model.compile({.input_shapes = {{8, 1, 28, 28}}, .backward = true});
//   session.forward({images});                 // one tensor per model input
//   mininn::Tensor logits = session.output("logits");
//   session.backward();                        // d(sum of float outputs)
//   mininn::Tensor dw = session.param_grad("conv.weight");
//
// Model and Session are handles onto private implementation objects; how the
// executor plans memory or lays out data stays behind them.
#pragma once

#include <mininn/backend.h>
#include <mininn/config.h>
#include <mininn/tensor.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mininn {

class Session;
class ModelBuilder;

// A model input or output.
struct TensorInfo {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;                 // for a Model, a leading kDynamic is the batch chosen at compile time
  bool requires_grad = false;  // inputs: as declared; outputs: a gradient can flow back from here
};

struct ParameterInfo {
  std::string name;  // "<node>.<param>", as in a PyTorch state_dict: "conv.weight"
  DType dtype = DType::Float32;
  Shape shape;
  bool trainable = true;  // false for buffers (BatchNorm's running statistics)
  std::string source;     // where the value came from: "default init", "data", "init \"zeros\"", a file
};

// One node of a compiled session, in execution order.
struct NodeInfo {
  std::string name;
  std::string op;                   // torch.nn class name: "MaxPool2d"
  std::string attributes;           // every attribute with its value: "kernel_size=2, stride=null, ..."
  std::vector<std::string> inputs;  // value names
  std::vector<std::string> outputs;
  std::vector<Shape> output_shapes;
  std::vector<std::string> parameters;  // "conv.weight", ...
  std::string forward_backend;          // "onednn" or "naive"
  std::string backward_backend;
  std::string fallback_reason;  // why oneDNN does not run it; empty when it does or was not asked
};

struct SessionOptions {
  // One shape per model input, in order. Empty: the declared shapes, a
  // dynamic batch becoming `batch`.
  std::vector<Shape> input_shapes = {};
  int64_t batch = 1;
  Backend backend = Backend::Auto;
  bool backward = false;  // keep what backward needs; Session::backward requires it
  bool training = false;  // training mode (BatchNorm batch statistics, Dropout drops)
};

// (name, tensor) pairs, in any order: {{"image", x}, {"labels", y}}.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// A validated, shape-inferred network with its parameters. Copies share the
// network and its parameter values (a handle, like std::shared_ptr).
class MININN_API Model {
 public:
  // A model file (docs/model-format.md); relative paths in it (.npy
  // parameters, the weights file) are resolved against its folder.
  static Model load(const std::string& path);
  // The same from JSON text. `source` names it in messages; `base_dir`
  // resolves relative paths.
  static Model parse(std::string_view json, const std::string& source = "model", const std::string& base_dir = ".");
  // The same from a JSON value of any library whose values have dump()
  // (nlohmann::json does): no JSON library type appears in mininn's API.
  template <class Json>
    requires requires(const Json& value) {
      { value.dump() } -> std::convertible_to<std::string>;
    }
  static Model from_json(const Json& value, const std::string& source = "model", const std::string& base_dir = ".") {
    return parse(value.dump(), source, base_dir);
  }

  const std::string& name() const;
  uint64_t seed() const;
  std::vector<TensorInfo> inputs() const;   // as declared
  std::vector<TensorInfo> outputs() const;  // as inferred
  std::vector<ParameterInfo> parameters() const;

  // A copy of a parameter's values, by its state_dict name.
  Tensor parameter(std::string_view name) const;
  // Replaces a parameter's values (same shape and type; copied). Sessions
  // compiled from this model see the new values from their next forward.
  void set_parameter(std::string_view name, const Tensor& values);

  // Compiles for concrete input shapes and a backend: shapes inferred,
  // every kernel chosen and built. Compile once, run many.
  Session compile(const SessionOptions& options = {}) const;

 private:
  struct Impl;
  explicit Model(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
  friend class Session;
  friend class ModelBuilder;
};

// A model compiled for fixed input shapes, with the buffers of one run.
// A Session is not thread-safe; fork() gives another one for another thread,
// sharing the compiled kernels.
class MININN_API Session {
 public:
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  Session fork() const;  // the same compiled model, its own buffers
  Model model() const;
  const SessionOptions& options() const;
  const std::vector<TensorInfo>& inputs() const;  // concrete shapes
  const std::vector<TensorInfo>& outputs() const;
  std::vector<NodeInfo> nodes() const;  // execution order, with each node's backend

  // Runs the model. Inputs are used in place, never copied: a tensor wrapping
  // caller memory is read from that memory.
  void forward(const std::vector<Tensor>& inputs);  // one per model input, in order
  void forward(const NamedTensors& inputs);         // every input, by name

  // An output of the last forward. The tensor shares the session's buffer:
  // clone() it to keep the values past the next forward.
  Tensor output(std::string_view name) const;
  Tensor output(size_t index) const;
  // From now on, forward writes this output into `destination` (caller
  // memory, e.g. a wrapped buffer, shaped and typed as the output).
  void bind_output(std::string_view name, Tensor destination);

  // Back-propagates after a forward. Without arguments every float output
  // gets a gradient of ones (the gradient of the sum of all float outputs);
  // with arguments only the listed outputs, from the given gradients.
  void backward();
  void backward(const NamedTensors& grad_outputs);

  // Gradients of the last backward: of a model input or output by name, or
  // of a parameter by its state_dict name. Zeros where no gradient reached;
  // an Error for a value that takes no gradient (int64, requires_grad false).
  Tensor grad(std::string_view value) const;
  Tensor param_grad(std::string_view parameter) const;

  // The compiled graph in Graphviz's dot language: inputs, nodes with their
  // op, parameters and backend (colored; the fallback reason in the label),
  // edges labelled with value names and shapes.
  std::string dot() const;

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class Model;
};

}  // namespace mininn
