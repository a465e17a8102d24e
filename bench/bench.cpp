// mininn_bench: times every node of small models, kernel by kernel, on one
// backend. bench/run.py drives it and times PyTorch on the same shapes.
//
//   mininn_bench --cases cases.json --backend onednn [--budget-ms 1500] [--max-runs 50]
//   mininn_bench --micro          # memory bandwidth, NaN scan, -FLT_MAX scan
//   mininn_bench --train MODEL.json [--batch 64]   # one training step
//   mininn_bench --peak --cases cases.json          # memory of one forward
//
// cases.json: [{"name": ..., "model": {mininn model}, "shapes": [[N, C, H, W], ...],
//               "backward": true, "layouts": true}, ...]   (layouts: CompileOptions::propagate_layouts)
// Prints one JSON document on stdout. Each kernel runs with preallocated
// outputs and gradients and its own KernelState, as an Execution would run
// it, minus the executor's allocations: forward_ms / backward_ms are kernel
// times (medians). graph_forward_ms is a whole Execution::forward.
//
// --train times a classifier's training step as the trainer runs it (the
// model plus CrossEntropyLoss on int64 labels, SGD lr 0.01 momentum 0.9):
// forward_ms is the forward with the loss, step_ms forward + backward +
// optimizer step, on one random batch.
//
// --peak runs the first case once, compiled for inference, and reports how
// far one forward (compile, inputs, execution, outputs) raised the process's
// peak RSS above what it was with the model loaded.
#include "framework/file.h"
#include "graph/executor.h"
#include "graph/spec.h"
#include "graph/training/optimizer.h"
#include "ops/onednn/runtime.h"

#include <fmt/format.h>
#include <malloc.h>
#include <omp.h>
#include <sys/resource.h>
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
  bool micro = false, peak = false;
  std::string train;
  int64_t batch = 64;
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
  CompileOptions options = {o.backend, false, backward};
  options.propagate_layouts = c.value("layouts", true);
  CompiledGraph plan(graph, shapes, options);
  std::mt19937 rng(1);
  std::vector<Tensor> inputs;
  for (const Shape& s : shapes) inputs.push_back(random_tensor(s, rng));
  Execution run(plan);
  run.forward(inputs);

  json result = {{"name", c.at("name")}, {"backend", backend_name(o.backend)}, {"nodes", json::array()}};
  const Timing graph_forward = time_ms(o, [&] { run.forward(inputs); });
  result["graph_forward_ms"] = graph_forward.median;
  result["graph_forward_min_ms"] = graph_forward.min;
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

int64_t peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t{usage.ru_maxrss} * 1024;  // Linux reports KiB
}

json bench_peak(const json& c, const Options& o) {
  auto graph = std::make_shared<const Graph>(parse_model(c.at("model").dump(), c.at("name"), "."));
  std::vector<Shape> shapes = c.at("shapes").get<std::vector<Shape>>();
  const int64_t baseline = peak_rss_bytes();
  CompiledGraph plan(graph, shapes, {o.backend, false, false});
  std::mt19937 rng(1);
  std::vector<Tensor> inputs;
  for (const Shape& s : shapes) inputs.push_back(random_tensor(s, rng));
  Execution run(plan);
  run.forward(inputs);
  const int64_t peak = peak_rss_bytes();
  const MemoryPlan& m = plan.memory();
  return {{"name", c.at("name")},
          {"baseline_rss_bytes", baseline},
          {"peak_rss_bytes", peak},
          {"forward_rss_bytes", peak - baseline},
          {"planned_bytes", m.arena_bytes + m.output_bytes}};
}

// The model with a CrossEntropyLoss on labels, as graph/training/trainer.cpp
// builds it; each timed step runs forward, backward and an SGD step.
json bench_train(const Options& o) {
  ModelSpec spec = parse_model_spec(json::parse(read_file(o.train, size_t{256} << 20)), o.train, ".");
  spec.inputs[0].shape[0] = kDynamic;
  spec.inputs[0].requires_grad = false;
  spec.inputs.push_back({"labels", {kDynamic}, DType::Int64, false, "(labels)"});
  NodeSpec loss;
  loss.name = loss.path = "loss";
  loss.op = "CrossEntropyLoss";
  loss.inputs = {spec.outputs.at(0), "labels"};
  loss.outputs = {"loss"};
  spec.nodes.push_back(loss);
  spec.outputs.push_back("loss");
  auto graph = std::make_shared<const Graph>(build_graph(spec));

  Shape images = graph->values[graph->inputs[0].value].desc.shape;
  images[0] = o.batch;
  const int64_t classes = graph->values[graph->outputs[0]].desc.shape[1];
  CompiledGraph plan(graph, {images, {o.batch}}, {o.backend, true, true});
  std::mt19937 rng(1);
  Tensor x = random_tensor(images, rng), labels = Tensor::empty({o.batch}, DType::Int64);
  for (int64_t i = 0; i < o.batch; ++i) labels.i64()[i] = static_cast<int64_t>(rng() % classes);
  std::vector<int> trainable;
  std::vector<Tensor> params;
  for (size_t p = 0; p < graph->params.size(); ++p)
    if (graph->params[p].trainable) {
      trainable.push_back(static_cast<int>(p));
      params.push_back(graph->params[p].tensor);
    }
  OptimizerOptions sgd;
  sgd.lr = 0.01;
  sgd.momentum = 0.9;
  std::unique_ptr<Optimizer> optimizer = Optimizer::create(sgd, params);
  Execution run(plan);
  const int loss_value = graph->outputs.back();
  const Tensor seed = Tensor::full({}, 1.0f);
  auto step = [&] {
    run.forward({x, labels});
    run.backward({{loss_value, seed}});
    std::vector<Tensor> grads;
    for (int p : trainable) grads.push_back(run.param_grad(p));
    optimizer->step(grads);
  };
  Timing forward = time_ms(o, [&] { run.forward({x, labels}); });
  Timing full = time_ms(o, step);
  return {{"model", o.train},           {"batch", o.batch},          {"backend", backend_name(o.backend)},
          {"forward_ms", forward.median}, {"forward_min_ms", forward.min}, {"step_ms", full.median},
          {"step_min_ms", full.min}};
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
    else if (arg == "--peak")
      o.peak = true;
    else if (arg == "--train")
      o.train = next();
    else if (arg == "--batch")
      o.batch = std::stoll(next());
    else
      throw std::runtime_error("unknown argument " + arg);
  }
  // Reuse freed big blocks instead of returning them to the kernel (the
  // driver gives PyTorch the same setting): page faults are not what is measured.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  json out = {{"runtime", onednn::describe()}, {"threads", omp_get_max_threads()}};
  if (o.micro) out["micro"] = micro(o);
  if (!o.train.empty()) out["train"] = bench_train(o);
  if (!o.cases.empty()) {
    std::ifstream file(o.cases);
    if (!file) throw std::runtime_error("cannot open " + o.cases);
    json cases = json::parse(file);
    if (o.peak)
      out["peak"] = bench_peak(cases.at(0), o);
    else {
      out["cases"] = json::array();
      for (const json& c : cases) out["cases"].push_back(bench_case(c, o));
    }
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
