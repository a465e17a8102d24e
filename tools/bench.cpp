// mininn bench: times a model on random inputs, per graph and per node.
#include "framework/error.h"
#include "framework/rng.h"
#include "framework/shape.h"
#include "graph/executor.h"
#include "tools/commands.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

namespace mininn::cli {
namespace {

struct BenchOptions {
  std::string model;
  int iterations = 20;
  int warmup = 3;
  bool backward = false;
  int64_t batch = 1;
  std::string backend = "auto";
  bool json = false;
};

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The median of `runs`; taken by value since it reorders.
double median(std::vector<double> runs) {
  if (runs.empty()) return 0;
  size_t mid = runs.size() / 2;
  std::nth_element(runs.begin(), runs.begin() + mid, runs.end());
  double upper = runs[mid];
  if (runs.size() % 2) return upper;
  return (*std::max_element(runs.begin(), runs.begin() + mid) + upper) / 2;
}

// Normal values for float inputs; int64 inputs (labels, pooling indices)
// get zeros, the one value valid for every op that reads them.
std::vector<Tensor> random_inputs(const Graph& graph, int64_t batch) {
  Generator generator(0);
  std::vector<Tensor> out;
  for (const GraphInput& input : graph.inputs) {
    const TensorDesc& desc = graph.values[input.value].desc;
    Tensor t = Tensor::zeros(with_batch(desc.shape, batch), desc.dtype);
    if (desc.dtype == DType::Float32) generator.normal(t.floats(), 0.0f, 1.0f);
    out.push_back(t);
  }
  return out;
}

// What one run holds at its peak: weights, arena, outputs and inputs, plus
// with backward one gradient per float value that takes one and per
// trainable parameter. Estimated from shapes; the process's RSS is reported
// beside it, but that also counts the libraries and is noisy.
size_t gradient_bytes(const CompiledGraph& plan) {
  const Graph& graph = plan.graph();
  size_t bytes = 0;
  for (size_t v = 0; v < graph.values.size(); ++v)
    if (graph.values[v].requires_grad && plan.desc(static_cast<int>(v)).dtype == DType::Float32)
      bytes += checked_bytes(plan.desc(static_cast<int>(v)));
  for (const Parameter& p : graph.params)
    if (p.trainable) bytes += p.tensor.nbytes();
  return bytes;
}

size_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<size_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}


struct Timings {
  std::vector<double> forward, backward;                 // per run, whole graph
  std::vector<std::vector<double>> node_forward, node_backward;  // per node, per run
};

Timings measure(const CompiledGraph& plan, const std::vector<Tensor>& inputs, const BenchOptions& options) {
  size_t node_count = plan.graph().nodes.size();
  Timings timings{{}, {}, std::vector<std::vector<double>>(node_count), std::vector<std::vector<double>>(node_count)};
  Execution execution(plan);
  std::vector<double> forward_ms, backward_ms;
  // Only a terminal gets progress, and only once a run is slow enough to wait for.
  bool progress = isatty(STDERR_FILENO);
  Clock::time_point began = Clock::now();
  int total = options.warmup + options.iterations;
  for (int i = 0; i < total; ++i) {
    bool timed = i >= options.warmup;
    execution.time_nodes(timed ? &forward_ms : nullptr, timed ? &backward_ms : nullptr);
    Clock::time_point start = Clock::now();
    execution.forward(inputs);
    double forward = ms_since(start);
    double backward = 0;
    if (options.backward) {
      start = Clock::now();
      execution.backward({});
      backward = ms_since(start);
    }
    if (progress && ms_since(began) > 1000)
      fmt::print(stderr, "\r{} run {}/{}", timed ? "timed" : "warm-up", timed ? i - options.warmup + 1 : i + 1,
                 timed ? options.iterations : options.warmup);
    if (!timed) continue;
    timings.forward.push_back(forward);
    if (options.backward) timings.backward.push_back(backward);
    for (size_t n = 0; n < node_count; ++n) {
      timings.node_forward[n].push_back(forward_ms[n]);
      if (options.backward) timings.node_backward[n].push_back(backward_ms[n]);
    }
  }
  if (progress && ms_since(began) > 1000) fmt::print(stderr, "\r\033[K");
  return timings;
}

void bench(const BenchOptions& options) {
  auto graph = std::make_shared<const Graph>(load_model(options.model));
  std::vector<Tensor> inputs = random_inputs(*graph, options.batch);
  std::vector<Shape> shapes;
  size_t input_bytes = 0;
  for (const Tensor& t : inputs) {
    shapes.push_back(t.shape());
    input_bytes += t.nbytes();
  }
  Backend backend = parse_backend(options.backend);
  // Without --backward, the inference plan: fusions and the smaller arena.
  CompiledGraph plan(graph, shapes, {backend, false, options.backward});
  Timings timings = measure(plan, inputs, options);

  const MemoryPlan& memory = plan.memory();
  size_t gradients = options.backward ? gradient_bytes(plan) : 0;
  size_t peak = memory.weights_bytes + memory.arena_bytes + memory.output_bytes + input_bytes + gradients;
  double forward_median = median(timings.forward);
  double backward_median = median(timings.backward);
  double forward_min = *std::min_element(timings.forward.begin(), timings.forward.end());
  int threads = omp_get_max_threads();

  if (options.json) {
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (int n : graph->schedule) {
      const Dispatch& dispatch = plan.kernel(n).dispatch;
      nlohmann::ordered_json kernel = {{"forward", dispatch.forward}};
      if (options.backward) kernel["backward"] = dispatch.backward;
      if (!dispatch.reason.empty()) kernel["reason"] = dispatch.reason;
      nlohmann::ordered_json node = {{"name", graph->nodes[n].name},
                             {"op", graph->nodes[n].schema->name},
                             {"backend", kernel},
                             {"forward_ms_median", median(timings.node_forward[n])}};
      if (options.backward) node["backward_ms_median"] = median(timings.node_backward[n]);
      nodes.push_back(node);
    }
    nlohmann::ordered_json report = {
        {"model", options.model},
        {"backend", options.backend},
        {"threads", threads},
        {"batch", options.batch},
        {"iterations", options.iterations},
        {"warmup", options.warmup},
        {"forward_ms_median", forward_median},
        {"forward_ms_min", forward_min},
        {"peak_bytes", peak},
        {"peak_rss_bytes", peak_rss_bytes()},
        {"memory",
         {{"weights_bytes", memory.weights_bytes},
          {"arena_bytes", memory.arena_bytes},
          {"unplanned_bytes", memory.unplanned_bytes},
          {"output_bytes", memory.output_bytes},
          {"input_bytes", input_bytes},
          {"gradient_bytes", gradients}}},
        {"nodes", nodes}};
    if (options.backward) {
      report["backward_ms_median"] = backward_median;
      report["backward_ms_min"] = *std::min_element(timings.backward.begin(), timings.backward.end());
    }
    fmt::print("{}\n", report.dump(1));
    return;
  }

  fmt::print("model {}{}: backend {}, {} thread{}, batch {}, {} timed runs after {} warm-up\n",
             graph->name.empty() ? "" : "'" + graph->name + "' ", options.model, options.backend, threads,
             threads == 1 ? "" : "s", options.batch, options.iterations, options.warmup);
  double total = forward_median + backward_median;
  std::vector<std::vector<std::string>> rows = {
      {"NODE", "OP", "BACKEND", "FORWARD ms", options.backward ? "BACKWARD ms" : "", "SHARE"}};
  for (int n : graph->schedule) {
    const Dispatch& dispatch = plan.kernel(n).dispatch;
    double forward = median(timings.node_forward[n]);
    double backward = options.backward ? median(timings.node_backward[n]) : 0;
    std::string kernel = !options.backward || dispatch.forward == dispatch.backward
                             ? dispatch.forward
                             : fmt::format("{} / {}", dispatch.forward, dispatch.backward);
    rows.push_back({graph->nodes[n].name, graph->nodes[n].schema->name, kernel, fmt::format("{:.3f}", forward),
                    options.backward ? fmt::format("{:.3f}", backward) : "",
                    fmt::format("{:.1f}%", total > 0 ? 100 * (forward + backward) / total : 0.0)});
  }
  size_t widths[6] = {};
  for (const auto& row : rows)
    for (size_t c = 0; c < 6; ++c) widths[c] = std::max(widths[c], row[c].size());
  for (const auto& row : rows) {
    std::string line = fmt::format("  {:<{}}  {:<{}}  {:<{}}  {:>{}}", row[0], widths[0], row[1], widths[1], row[2],
                                   widths[2], row[3], widths[3]);
    if (options.backward) line += fmt::format("  {:>{}}", row[4], widths[4]);
    fmt::print("{}  {:>{}}\n", line, row[5], widths[5]);
  }
  std::string summary = fmt::format("forward {:.3f} ms median ({:.3f} min)", forward_median, forward_min);
  if (options.backward) summary += fmt::format(", backward {:.3f} ms median", backward_median);
  fmt::print("{}; peak {} planned (weights {}, arena {}, outputs {}, inputs {}{}), process RSS {}\n", summary,
             bytes_text(peak), bytes_text(memory.weights_bytes), bytes_text(memory.arena_bytes),
             bytes_text(memory.output_bytes), bytes_text(input_bytes),
             options.backward ? ", gradients " + bytes_text(gradients) : "", bytes_text(peak_rss_bytes()));
}

}  // namespace

Runner add_bench(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Time a model on random inputs: medians per graph and per node");
  cmd->add_option("model", options->model, "the model file (JSON)")->required();
  cmd->add_option("--iterations", options->iterations, "timed runs (default 20)")->check(whole_number(1));
  cmd->add_option("--warmup", options->warmup, "untimed runs first (default 3)")->check(whole_number(0));
  cmd->add_flag("--backward", options->backward, "also time backward (gradients of ones for every float output)");
  cmd->add_option("--batch", options->batch, "the batch size for a null batch dimension (default 1)")
      ->check(whole_number(1));
  add_backend_option(cmd, options->backend);
  cmd->add_flag("--json", options->json, "print one JSON object instead of the table");
  return [options] { bench(*options); };
}

}  // namespace mininn::cli
