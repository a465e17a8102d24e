// mininn_bench: times every node of small models, kernel by kernel, on one
// backend. bench/run.py drives it and times PyTorch on the same shapes.
//
//   mininn_bench --cases cases.json --backend onednn [--budget-ms 1500] [--max-runs 50]
//   mininn_bench --micro          # memory bandwidth, NaN scan, -FLT_MAX scan
//
// cases.json: [{"name": ..., "model": {mininn model}, "shapes": [[N, C, H, W], ...],
//               "backward": true}, ...]
// Prints one JSON document on stdout. Each kernel runs with preallocated
// outputs and gradients and its own KernelState, as an Execution would run
// it, minus the executor's allocations: forward_ms / backward_ms are kernel
// times (medians). graph_forward_ms is a whole Execution::forward.
#include "graph/executor.h"
#include "ops/onednn/runtime.h"

#include <fmt/format.h>
#include <malloc.h>
#include <omp.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace mininn::bench {
namespace {

using nlohmann::json;

struct Options {
  std::string cases;
  Backend backend = Backend::OneDnn;
  double budget_ms = 1500;
  int min_runs = 3, max_runs = 50;
  bool micro = false;
};

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median and minimum time of `body` over at least min_runs calls, more
// while the budget lasts, after one warm-up call.
struct Timing {
  double median = 0, min = 0;
};

Timing time_ms(const Options& o, const std::function<void()>& body) {
  body();
  std::vector<double> times;
  const double start = now_ms();
  while (static_cast<int>(times.size()) < o.max_runs &&
         (static_cast<int>(times.size()) < o.min_runs || now_ms() - start < o.budget_ms)) {
    double t0 = now_ms();
    body();
    times.push_back(now_ms() - t0);
  }
  std::sort(times.begin(), times.end());
  size_t n = times.size();
  return {n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2, times[0]};
}

double median_ms(const Options& o, const std::function<void()>& body) { return time_ms(o, body).median; }

Tensor random_tensor(const Shape& shape, std::mt19937& rng) {
  Tensor t = Tensor::empty(shape);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (float& v : t.floats()) v = dist(rng);
  return t;
}

json bench_case(const json& c, const Options& o) {
  auto graph = std::make_shared<const Graph>(parse_model(c.at("model").dump(), c.at("name"), "."));
  std::vector<Shape> shapes = c.at("shapes").get<std::vector<Shape>>();
  const bool backward = c.value("backward", true);
  CompiledGraph plan(graph, shapes, {o.backend, false, backward});
  std::mt19937 rng(1);
  std::vector<Tensor> inputs;
  for (const Shape& s : shapes) inputs.push_back(random_tensor(s, rng));
  Execution run(plan);
  run.forward(inputs);

  json result = {{"name", c.at("name")}, {"backend", backend_name(o.backend)}, {"nodes", json::array()}};
  result["graph_forward_ms"] = median_ms(o, [&] { run.forward(inputs); });
  const Graph& g = *graph;
  for (int n : g.schedule) {
    const Node& node = g.nodes[n];
    const Kernel& kernel = plan.kernel(n);
    std::unique_ptr<KernelState> state = kernel.make_state();
    std::vector<Tensor> node_inputs, params, outputs;
    for (int v : node.inputs) node_inputs.push_back(run.value(v));
    for (int p : node.params) params.push_back(g.params[p].tensor);
    for (int v : node.outputs) outputs.push_back(Tensor::empty(plan.desc(v).shape, plan.desc(v).dtype));
    json row = {{"node", node.name},
                {"op", node.schema->name},
                {"forward", kernel.dispatch.forward},
                {"backward", kernel.dispatch.backward},
                {"reason", kernel.dispatch.reason}};
    ForwardArgs fargs{node_inputs, params, outputs, state.get()};
    Timing forward = time_ms(o, [&] { kernel.forward(fargs); });
    row["forward_ms"] = forward.median;
    row["forward_min_ms"] = forward.min;
    if (backward) {
      std::vector<Tensor> grad_outputs, grad_inputs, grad_params;
      for (size_t i = 0; i < node.outputs.size(); ++i) {
        const TensorDesc& d = plan.desc(node.outputs[i]);
        grad_outputs.push_back(node.op->differentiable_output(static_cast<int>(i)) ? Tensor::full(d.shape, 1.0f)
                                                                                   : Tensor());
      }
      for (size_t i = 0; i < node.inputs.size(); ++i)
        grad_inputs.push_back(node.op->differentiable_input(static_cast<int>(i))
                                  ? Tensor::empty(plan.desc(node.inputs[i]).shape)
                                  : Tensor());
      for (const Tensor& p : params) grad_params.push_back(Tensor::empty(p.shape()));
      BackwardArgs bargs{node_inputs, params, outputs, grad_outputs, grad_inputs, grad_params, state.get()};
      Timing backward = time_ms(o, [&] { kernel.backward(bargs); });
      row["backward_ms"] = backward.median;
      row["backward_min_ms"] = backward.min;
    }
    result["nodes"].push_back(row);
  }
  return result;
}

// What the machine and the exactness checks cost, in isolation.
json micro(const Options& o) {
  json out;
  const size_t bytes = size_t{256} << 20;
  std::vector<float> a(bytes / 4, 1.0f), b(bytes / 4, 0.0f);
  const int64_t n = static_cast<int64_t>(a.size());
  // Copy: bytes read + bytes written per second, both threads.
  // Bandwidths from the fastest run (what the machine can do); scans as
  // median and fastest run.
  double copy_ms = time_ms(o, [&] {
#pragma omp parallel for schedule(static)
                     for (int64_t i = 0; i < n; ++i) b[i] = a[i];
                   }).min;
  out["copy_gbs"] = 2.0 * bytes / (copy_ms * 1e6);
  double read_ms = time_ms(o, [&] {
                     volatile bool r = onednn::contains(a.data(), n, 2.0f);
                     (void)r;
                   }).min;
  out["read_gbs"] = 1.0 * bytes / (read_ms * 1e6);

  // The NaN scan of a max pool's input (32x64x112x112) and the -FLT_MAX
  // scan of its output (3/2/1: 32x64x56x56).
  const int64_t input = int64_t{32} * 64 * 112 * 112, output = int64_t{32} * 64 * 56 * 56;
  Timing nan_scan = time_ms(o, [&] {
    volatile bool r = onednn::contains_nan(a.data(), input);
    (void)r;
  });
  Timing lowest_scan = time_ms(o, [&] {
    volatile bool r = onednn::contains(a.data(), output, -FLT_MAX);
    (void)r;
  });
  out["nan_scan_ms"] = nan_scan.median;
  out["nan_scan_min_ms"] = nan_scan.min;
  out["lowest_scan_ms"] = lowest_scan.median;
  out["lowest_scan_min_ms"] = lowest_scan.min;
  out["nan_scan_elements"] = input;
  out["lowest_scan_elements"] = output;

  // The bare oneDNN primitive of MaxPool2d 3/2/1 on 32x64x112x112 (no
  // checks, no chunks, no indices): what the exactness costs on top.
  for (bool training : {false, true}) {
    using dnnl::memory;
    const memory::dims src = {32, 64, 112, 112}, dst = {32, 64, 56, 56};
    dnnl::pooling_v2_forward::desc desc(
        training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
        dnnl::algorithm::pooling_max, onednn::plain(src), onednn::plain(dst), {2, 2}, {3, 3}, {0, 0}, {1, 1}, {1, 1});
    dnnl::pooling_v2_forward::primitive_desc pd(desc, onednn::attributes(), onednn::engine());
    int created = 0;
    auto pool = onednn::create<dnnl::pooling_v2_forward>(pd, created);
    onednn::Buffer scratchpad(pd.scratchpad_desc().get_size()), workspace(pd.workspace_desc().get_size());
    onednn::Args args = {{DNNL_ARG_SRC, memory(pd.src_desc(), onednn::engine(), a.data())},
                         {DNNL_ARG_DST, memory(pd.dst_desc(), onednn::engine(), b.data())},
                         {DNNL_ARG_SCRATCHPAD, onednn::over(pd.scratchpad_desc(), scratchpad)}};
    if (training) args[DNNL_ARG_WORKSPACE] = onednn::over(pd.workspace_desc(), workspace);
    Timing t = time_ms(o, [&] { onednn::run(pool, args); });
    out[training ? "bare_pool_training_ms" : "bare_pool_inference_ms"] = t.median;
    out[training ? "bare_pool_training_min_ms" : "bare_pool_inference_min_ms"] = t.min;
  }
  return out;
}

int main_(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value after " + arg);
      return argv[++i];
    };
    if (arg == "--cases")
      o.cases = next();
    else if (arg == "--backend") {
      std::string b = next();
      o.backend = b == "naive" ? Backend::Naive : b == "auto" ? Backend::Auto : Backend::OneDnn;
    } else if (arg == "--budget-ms")
      o.budget_ms = std::stod(next());
    else if (arg == "--max-runs")
      o.max_runs = std::stoi(next());
    else if (arg == "--min-runs")
      o.min_runs = std::stoi(next());
    else if (arg == "--micro")
      o.micro = true;
    else
      throw std::runtime_error("unknown argument " + arg);
  }
  // Reuse freed big blocks instead of returning them to the kernel (the
  // driver gives PyTorch the same setting): page faults are not what is measured.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  json out = {{"runtime", onednn::describe()}, {"threads", omp_get_max_threads()}};
  if (o.micro) out["micro"] = micro(o);
  if (!o.cases.empty()) {
    std::ifstream file(o.cases);
    if (!file) throw std::runtime_error("cannot open " + o.cases);
    json cases = json::parse(file);
    out["cases"] = json::array();
    for (const json& c : cases) out["cases"].push_back(bench_case(c, o));
  }
  std::cout << out.dump(1) << "\n";
  return 0;
}

}  // namespace
}  // namespace mininn::bench

int main(int argc, char** argv) {
  try {
    return mininn::bench::main_(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mininn_bench: " << e.what() << "\n";
    return 1;
  }
}
