// Session::dot: the compiled graph as Graphviz text, from the same description
// Session::nodes() gives embedders (op, shapes, parameters, backend, reason).
#include "api/internal.h"

#include <mininn/model.h>

#include <map>

namespace mininn {
namespace {

// A double-quoted DOT string: quotes and backslashes escaped; "\n" in `text`
// becomes DOT's centred line break.
std::string dot_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == '"' || c == '\\') out += std::string("\\") + c;
    else out += c;
  }
  return out + "\"";
}

// Breaks `text` into lines of about `width` characters at spaces.
std::string wrap(const std::string& text, size_t width) {
  std::string out, line;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(start, end - start);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    start = end + 1;
  }
  return out + line;
}

std::string backend_label(const NodeInfo& node, bool backward) {
  std::string text = !backward || node.forward_backend == node.backward_backend
                         ? node.forward_backend
                         : "forward " + node.forward_backend + ", backward " + node.backward_backend;
  bool fell_back = node.forward_backend != "onednn" || (backward && node.backward_backend != "onednn");
  if (fell_back && !node.fallback_reason.empty()) text += ": " + node.fallback_reason;
  return text;
}

}  // namespace

std::string Session::dot() const {
  return api::guarded([&] {
    const Impl& s = *impl_;
    const Graph& g = s.plan->graph();
    bool backward = s.options.backward;
    std::map<std::string, std::string> producer;  // value -> DOT node id
    std::map<std::string, TensorDesc> descs;
    std::map<std::string, Shape> param_shapes;
    for (const Parameter& p : g.params) param_shapes[p.name] = p.tensor.shape();

    std::string out = "digraph " + dot_string(g.name.empty() ? "model" : g.name) + " {\n";
    out += "  graph [rankdir=TB, fontname=\"Helvetica\", labelloc=t, label=" +
           dot_string(fmt::format("{} (backend {}{})", g.name.empty() ? "model" : g.name, backend_name(s.options.backend),
                              backward ? ", with backward" : "")) +
           "];\n";
    out += "  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n";

    for (size_t i = 0; i < s.inputs.size(); ++i) {
      const TensorInfo& input = s.inputs[i];
      std::string id = fmt::format("input{}", i);
      producer[input.name] = id;
      descs[input.name] = {input.dtype, input.shape};
      out += fmt::format("  {} [shape=ellipse, style=filled, fillcolor=\"#e8f5e9\", label={}];\n", id,
                         dot_string(input.name + "\n" + to_string(TensorDesc{input.dtype, input.shape})));
    }

    const std::vector<NodeInfo> node_infos = nodes();
    for (size_t n = 0; n < node_infos.size(); ++n) {
      const NodeInfo& node = node_infos[n];
      std::string id = fmt::format("node{}", n);
      std::string label = node.name + "\n" + node.op;
      for (const std::string& p : node.parameters) label += "\n" + p.substr(node.name.size() + 1) + " " + to_string(param_shapes[p]);
      label += "\n" + wrap(backend_label(node, backward), 40);
      bool onednn = node.forward_backend == "onednn" && (!backward || node.backward_backend == "onednn");
      bool some_onednn = node.forward_backend == "onednn" || (backward && node.backward_backend == "onednn");
      const char* color = onednn ? "#cfe2ff" : some_onednn ? "#e2e3f3" : "#fff3cd";
      out += fmt::format("  {} [shape=box, style=\"rounded,filled\", fillcolor=\"{}\", label={}, tooltip={}];\n", id, color,
                         dot_string(label), dot_string(node.op + "(" + node.attributes + ")"));
      for (size_t i = 0; i < node.outputs.size(); ++i) {
        producer[node.outputs[i]] = id;
        int v = g.find_value(node.outputs[i]);
        descs[node.outputs[i]] = s.plan->desc(v);
      }
    }

    // Edges after every producer is known: a model's node order is free. An
    // edge carries its value's name and shape, and its layout when layout
    // propagation keeps it in oneDNN's, except from a graph input, whose own
    // node shows them; int64 values (indices) are dashed.
    for (size_t n = 0; n < node_infos.size(); ++n)
      for (const std::string& value : node_infos[n].inputs) {
        bool from_input = producer[value].rfind("input", 0) == 0;
        std::string style = descs[value].dtype == DType::Int64 ? ", style=dashed" : "";
        std::string label = value + "\n" + to_string(descs[value]);
        if (const TensorLayoutRef& layout = s.plan->layout(g.find_value(value))) label += "\n" + layout_name(layout);
        out += fmt::format("  {} -> node{} [label={}{}];\n", producer[value], n, dot_string(from_input ? "" : label),
                           style);
      }
    for (size_t i = 0; i < s.outputs.size(); ++i) {
      const TensorInfo& output = s.outputs[i];
      out += fmt::format("  output{} [shape=ellipse, style=filled, fillcolor=\"#fde2e4\", label={}];\n", i,
                         dot_string(output.name + "\n" + to_string(TensorDesc{output.dtype, output.shape})));
      out += fmt::format("  {} -> output{}{};\n", producer[output.name], i,
                         output.dtype == DType::Int64 ? " [style=dashed]" : "");
    }
    return out + "}\n";
  });
}

}  // namespace mininn
