// A model as written, before validation: what the JSON loader reads and the
// C++ builder assembles. build_graph() turns it into a Graph — the one path
// both take, so both get the same checks and messages.
#pragma once

#include "graph/graph.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace mininn {

struct InputSpecEntry {
  std::string name;
  Shape shape;  // a leading kDynamic is a run-time batch
  DType dtype = DType::Float32;
  bool requires_grad = true;
  std::string path;  // "inputs[0]"
};

struct NodeSpec {
  std::string name;
  std::string op;
  nlohmann::json attrs = nlohmann::json::object();
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  nlohmann::json params = nlohmann::json::object();  // name -> {"data"|"npy"|"init": ...}
  std::string path;                                  // "nodes[3]"
};

struct ModelSpec {
  std::string name;
  uint64_t seed = 0;
  std::string weights;  // safetensors file, relative to base_dir; empty: none
  std::vector<InputSpecEntry> inputs;
  std::vector<NodeSpec> nodes;
  std::vector<std::string> outputs;
  std::string source = "model";  // names the model in messages
  std::string base_dir = ".";
};

ModelSpec parse_model_spec(const nlohmann::json& document, const std::string& source, const std::string& base_dir);
Graph build_graph(const ModelSpec& spec);

// Steps of build_graph, usable on their own.
void schedule_nodes(Graph& graph);      // topological order; a cycle is an error naming its nodes
void infer_shapes(Graph& graph);        // every value's desc, in schedule order
void mark_requires_grad(Graph& graph);  // which values a gradient can reach
void load_parameters(Graph& graph, const ModelSpec& spec);  // graph/params.cpp

}  // namespace mininn
