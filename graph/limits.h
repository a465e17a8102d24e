// The graph-wide memory limit (max_graph_bytes(), public in
// <mininn/tensor.h>): what a model or a compiled graph will hold, added up
// from shapes alone, so that a hostile model is refused before anything is
// allocated. max_tensor_bytes() bounds each tensor; this bounds their sum.
#pragma once

#include "framework/tensor.h"

#include <vector>

namespace mininn {

class Graph;

// A loaded model: the parameters its ops declare and every value, a dynamic
// batch counted as 1. Called by build_graph before the parameters exist.
void check_model_bytes(const Graph& graph);

// A compiled graph: the parameters, every value at its concrete shape
// (`descs`, one per value) and, compiled for backward, a gradient for every
// value that needs one and for every trainable parameter.
void check_compiled_bytes(const Graph& graph, const std::vector<TensorDesc>& descs, bool backward);

}  // namespace mininn
