#include "graph/limits.h"

#include "framework/error.h"
#include "graph/graph.h"

#include <fmt/format.h>

#include <string>

namespace mininn {
namespace {

// A running total that saturates instead of wrapping, remembering its
// largest term for the message.
class Total {
 public:
  void add(const Shape& shape, DType dtype, const std::string& what) {
    Shape known = shape;
    for (int64_t& extent : known) {
      if (extent == kDynamic) extent = 1;
      if (extent < 0) return;  // not a shape: whoever allocates it says so
    }
    uint64_t bytes = 0;
    int64_t count = 0;
    bool overflow = false;
    try {
      count = checked_numel(known);
    } catch (const Error&) {
      overflow = true;
    }
    overflow = overflow || __builtin_mul_overflow(static_cast<uint64_t>(count), dtype_size(dtype), &bytes);
    if (overflow || __builtin_add_overflow(total_, bytes, &total_)) total_ = UINT64_MAX;
    if (overflow) bytes = UINT64_MAX;
    if (bytes >= largest_) {
      largest_ = bytes;
      largest_what_ = fmt::format("{} {}", what, to_string(TensorDesc{dtype, shape}));
    }
  }

  void check(const char* what) const {
    const uint64_t limit = max_graph_bytes();
    if (total_ <= limit) return;
    std::string total = total_ == UINT64_MAX ? "more than 2^64" : std::to_string(total_);
    std::string largest = largest_ == UINT64_MAX ? "more than 2^64" : std::to_string(largest_);
    fail("{} needs {} bytes, over the limit of {} bytes per graph (the largest part: {}, {} bytes)", what, total,
         limit, largest_what_, largest);
  }

 private:
  uint64_t total_ = 0;
  uint64_t largest_ = 0;
  std::string largest_what_;
};

}  // namespace

void check_model_bytes(const Graph& graph) {
  Total total;
  for (const Node& node : graph.nodes)
    for (const ParamDecl& decl : node.op->params()) total.add(decl.shape, decl.dtype, "parameter " + node.name + "." + decl.name);
  for (const Value& value : graph.values) total.add(value.desc.shape, value.desc.dtype, "value '" + value.name + "'");
  total.check("the model");
}

void check_compiled_bytes(const Graph& graph, const std::vector<TensorDesc>& descs, bool backward) {
  Total total;
  for (const Parameter& param : graph.params) {
    total.add(param.tensor.shape(), param.tensor.dtype(), "parameter " + param.name);
    if (backward && param.trainable) total.add(param.tensor.shape(), param.tensor.dtype(), "gradient of " + param.name);
  }
  for (size_t v = 0; v < graph.values.size(); ++v) {
    const std::string& name = graph.values[v].name;
    total.add(descs[v].shape, descs[v].dtype, "value '" + name + "'");
    if (backward && graph.values[v].requires_grad) total.add(descs[v].shape, descs[v].dtype, "gradient of '" + name + "'");
  }
  total.check("the compiled graph");
}

}  // namespace mininn
