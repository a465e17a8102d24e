// The graph IR: a validated, shape-inferred, topologically scheduled model.
// Built by the JSON loader (graph/loader.cpp) or by code; compiled for
// concrete input shapes and a backend by graph/executor.h.
#pragma once

#include "framework/tensor.h"
#include "ops/op.h"
#include "ops/registry.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mininn {

struct Value {
  std::string name;
  TensorDesc desc;           // inferred; a leading batch may be kDynamic
  int producer = -1;         // node id, or -1 for a graph input
  int output_index = 0;      // which output of the producer
  bool requires_grad = false;  // a gradient can flow back from here
};

struct Parameter {
  std::string name;  // "<node>.<param>", as in a PyTorch state_dict
  Tensor tensor;
  bool trainable = true;
  std::string source;  // where the value came from, for inspect: "default init", "data", "file.npy", ...
};

struct Node {
  std::string name;
  const OpSchema* schema = nullptr;
  std::shared_ptr<const Op> op;
  std::vector<int> inputs;   // value ids
  std::vector<int> outputs;  // value ids
  std::vector<int> params;   // parameter ids, in the order of op->params()
  std::string path;          // JSON path of the node: "nodes[3]"
  std::string attrs_summary;
};

struct GraphInput {
  int value = -1;
  bool requires_grad = true;
};

class Graph {
 public:
  std::string name;
  uint64_t seed = 0;
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<Parameter> params;
  std::vector<GraphInput> inputs;
  std::vector<int> outputs;   // value ids
  std::vector<int> schedule;  // node ids in execution order

  int find_value(const std::string& name) const;  // -1 if none
  int find_param(const std::string& name) const;  // -1 if none
  int find_node(const std::string& name) const;   // -1 if none
};

// Loads a model file (the format of docs/model-format.md). Relative paths in
// it (.npy parameters, the weights file) are resolved against its folder.
Graph load_model(const std::string& path);
// The same from JSON text; `source` names it in messages, `base_dir`
// resolves relative paths.
Graph parse_model(const std::string& text, const std::string& source, const std::string& base_dir);

}  // namespace mininn
