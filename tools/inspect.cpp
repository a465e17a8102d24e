// mininn inspect: every node with its op, output shapes and backend.
#include "framework/error.h"
#include "graph/executor.h"
#include "tools/commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace mininn::cli {
namespace {

struct InspectOptions {
  std::string model;
  std::string backend = "auto";
  int64_t batch = 1;
  bool training = false;
};

std::string memory_text(const MemoryPlan& m) {
  return fmt::format("arena {} (one buffer per value: {}, saved {}), outputs {}", bytes_text(m.arena_bytes),
                     bytes_text(m.unplanned_bytes), bytes_text(m.unplanned_bytes - m.arena_bytes),
                     bytes_text(m.output_bytes));
}

std::string backend_text(const Dispatch& d) {
  std::string text = d.forward == d.backward ? d.forward : fmt::format("forward {}, backward {}", d.forward, d.backward);
  if (!d.reason.empty() && (d.forward != "onednn" || d.backward != "onednn")) text += " (" + d.reason + ")";
  return text;
}

// Layout propagation: which values pass between kernels in a oneDNN layout,
// and the conversions each node still makes per forward.
void print_layouts(const Graph& graph, const CompiledGraph& inference) {
  std::vector<std::vector<std::string>> kept;
  for (int n : graph.schedule) {
    if (inference.fused_into(n) >= 0) continue;
    for (int v : graph.nodes[n].inputs) {
      if (!inference.layout(v)) continue;
      int producer = graph.values[v].producer;
      if (int into = inference.fused_into(producer); into >= 0) producer = into;
      kept.push_back({graph.values[v].name, layout_name(inference.layout(v)),
                      graph.nodes[producer].name + " -> " + graph.nodes[n].name});
    }
  }
  fmt::print("layouts for inference:{}\n", kept.empty() ? " plain everywhere" : "");
  for (const auto& row : kept) fmt::print("  {:<12} {:<10} {}\n", row[0], row[1], row[2]);
  std::string conversions;
  for (int n : graph.schedule) {
    const std::vector<std::string>& list = inference.kernel(n).dispatch.conversions;
    if (list.empty()) continue;
    std::string line;
    for (const std::string& c : list) line += (line.empty() ? "" : "; ") + c;
    conversions += fmt::format("  {:<12} {}\n", graph.nodes[n].name, line);
  }
  fmt::print("conversions per forward (inference):{}\n{}", conversions.empty() ? " none" : "", conversions);
}

void inspect(const InspectOptions& options) {
  auto graph = std::make_shared<const Graph>(load_model(options.model));
  std::vector<Shape> shapes;
  for (const GraphInput& input : graph->inputs) {
    shapes.push_back(with_batch(graph->values[input.value].desc.shape, options.batch));
  }
  Backend backend = parse_backend(options.backend);
  CompiledGraph plan(graph, shapes, {backend, options.training, true});
  CompiledGraph inference(graph, shapes, {backend, options.training, false});

  fmt::print("model {}{} (seed {}), backend {}\n", graph->name.empty() ? "" : "'" + graph->name + "' ",
             options.model, graph->seed, options.backend);
  fmt::print("inputs:\n");
  for (const GraphInput& input : graph->inputs) {
    const Value& v = graph->values[input.value];
    fmt::print("  {:<12} {}{}\n", v.name, to_string(v.desc),
               v.desc.dtype == DType::Float32 && !input.requires_grad ? "  (no gradient)" : "");
  }

  std::vector<std::vector<std::string>> rows = {{"NODE", "OP", "OUTPUTS", "BACKEND"}};
  for (int n : graph->schedule) {
    const Node& node = graph->nodes[n];
    std::string outputs;
    for (int v : node.outputs) outputs += (outputs.empty() ? "" : ", ") + graph->values[v].name + " " + to_string(plan.desc(v));
    rows.push_back({node.name, node.schema->name, outputs, backend_text(plan.kernel(n).dispatch)});
  }
  size_t widths[3] = {0, 0, 0};
  for (const auto& row : rows)
    for (size_t c = 0; c < 3; ++c) widths[c] = std::max(widths[c], row[c].size());
  fmt::print("nodes (in execution order):\n");
  for (const auto& row : rows)
    fmt::print("  {:<{}}  {:<{}}  {:<{}}  {}\n", row[0], widths[0], row[1], widths[1], row[2], widths[2], row[3]);

  std::string outputs;
  for (int v : graph->outputs) outputs += (outputs.empty() ? "" : ", ") + graph->values[v].name;
  fmt::print("outputs: {}\n", outputs);

  int64_t count = 0;
  fmt::print("parameters:{}\n", graph->params.empty() ? " none" : "");
  for (const Parameter& p : graph->params) {
    count += p.tensor.numel();
    fmt::print("  {:<20} {:<24} {}{}\n", p.name, to_string(p.tensor.desc()), p.source, p.trainable ? "" : " (buffer)");
  }
  if (!graph->params.empty()) fmt::print("  {} values, {} bytes\n", count, count * 4);

  // What `run` without --backward compiles: fusions, and the smaller arena.
  std::string fused;
  for (int n : graph->schedule)
    if (int into = inference.fused_into(n); into >= 0)
      fused += fmt::format("{}{} + {}", fused.empty() ? "" : ", ", graph->nodes[into].name, graph->nodes[n].name);
  fmt::print("fused for inference: {}\n", fused.empty() ? "none" : fused + " (the activation runs inside the producer's kernel)");
  print_layouts(*graph, inference);
  fmt::print("memory: weights {}\n", bytes_text(plan.memory().weights_bytes));
  fmt::print("  inference:     {}\n", memory_text(inference.memory()));
  fmt::print("  with backward: {}\n", memory_text(plan.memory()));
}

}  // namespace

Runner add_inspect(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show every node: op, inferred output shapes, backend and why");
  cmd->add_option("model", options->model, "the model file (JSON)")->required();
  add_backend_option(cmd, options->backend);
  cmd->add_option("--batch", options->batch, "the batch size for a null batch dimension (default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--training", options->training, "as compiled for training mode");
  return [options] { inspect(*options); };
}

}  // namespace mininn::cli
