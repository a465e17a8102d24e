// The JSON model loader (graph/loader.cpp, graph/params.cpp): parse,
// validate, infer shapes, load parameters; then, for a model small enough,
// compile it and run it forward and backward on made-up inputs. Any input
// either works or throws mininn::Error: another exception, a crash, a
// sanitizer report or a hang is a finding.
//
// File references are confined to a sandbox folder: an input whose "npy" or
// "weights" names anything but a plain file name (no '/') is rejected before
// the loader sees it, so the fuzzer reads only the files put in the sandbox
// here and cannot wander the machine's file system (or block on a FIFO).
#include "framework/error.h"
#include "framework/npy.h"
#include "framework/safetensors.h"
#include "fuzz/common.h"
#include "graph/executor.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

namespace {

using nlohmann::json;

std::string g_sandbox;

// Files a model may name: .npy parameters of a few shapes and dtypes, and a
// weights file holding typical parameter names.
void fill_sandbox() {
  using mininn::DType;
  using mininn::Tensor;
  auto ramp = [](const mininn::Shape& shape) {
    Tensor t = Tensor::empty(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.f32()[i] = static_cast<float>(i % 7) - 3.0f;
    return t;
  };
  char name[] = "/tmp/mininn-fuzz-XXXXXX";
  if (!mkdtemp(name)) std::abort();
  g_sandbox = name;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(g_sandbox, ec);
  });
  auto at = [](const char* file) { return g_sandbox + "/" + file; };
  mininn::write_npy(at("w.npy"), ramp({2, 1, 3, 3}));
  mininn::write_npy(at("b.npy"), ramp({2}));
  mininn::write_npy(at("v.npy"), ramp({4}));
  mininn::write_npy(at("m.npy"), ramp({3, 4}));
  mininn::write_npy(at("i.npy"), Tensor::zeros({}, DType::Int64));
  mininn::write_safetensors(at("w.safetensors"), {{"conv.weight", ramp({2, 1, 3, 3})},
                                                  {"conv.bias", ramp({2})},
                                                  {"fc.weight", ramp({3, 4})},
                                                  {"fc.bias", ramp({3})},
                                                  {"bn.weight", ramp({2})},
                                                  {"bn.num_batches_tracked", Tensor::zeros({}, DType::Int64)}});
}

// True when every file the model names is a plain name inside the sandbox.
// The loader reads exactly these two places ("weights", and "npy" in a
// node's params entry); the same JSON parser gives the same strings.
bool confined(const json& document) {
  auto plain = [](const json& name) {
    return !name.is_string() || name.get_ref<const std::string&>().find('/') == std::string::npos;
  };
  if (!document.is_object()) return true;
  if (document.contains("weights") && !plain(document["weights"])) return false;
  if (!document.contains("nodes") || !document["nodes"].is_array()) return true;
  for (const json& node : document["nodes"]) {
    if (!node.is_object() || !node.contains("params") || !node["params"].is_object()) continue;
    for (const auto& [key, entry] : node["params"].items())
      if (entry.is_object() && entry.contains("npy") && !plain(entry["npy"])) return false;
  }
  return true;
}

// Deterministic inputs: a ramp with ties (max pooling) for floats, small
// integers running past the valid range (indices, labels) for int64, and
// NaN or infinity at the start when `special` says so.
mininn::Tensor make_input(const mininn::TensorDesc& desc, uint64_t hash) {
  mininn::Tensor t = mininn::Tensor::empty(desc.shape, desc.dtype);
  const int64_t n = t.numel();
  if (desc.dtype == mininn::DType::Int64) {
    for (int64_t i = 0; i < n; ++i) t.i64()[i] = static_cast<int64_t>((i * 31 + hash) % (2 * n + 3)) - 1;
  } else {
    for (int64_t i = 0; i < n; ++i) t.f32()[i] = static_cast<float>((i * 7919 + hash) % 23) * 0.25f - 2.5f;
    if (n > 0 && hash % 8 == 1) t.f32()[0] = NAN;
    if (n > 0 && hash % 8 == 2) t.f32()[0] = INFINITY;
  }
  return t;
}

void compile_and_run(const std::shared_ptr<const mininn::Graph>& graph, uint64_t hash) {
  std::vector<mininn::Shape> shapes;
  for (const mininn::GraphInput& input : graph->inputs) {
    mininn::Shape shape = graph->values[input.value].desc.shape;
    if (!shape.empty() && shape[0] == mininn::kDynamic) shape[0] = 1 + static_cast<int64_t>(hash % 2);
    shapes.push_back(shape);
  }
  // Small enough that the naive loops stay fast: 64 KiB for everything.
  mininn::set_max_graph_bytes(size_t{64} << 10);
  const mininn::Backend backends[] = {mininn::Backend::Naive, mininn::Backend::Naive, mininn::Backend::Auto};
  mininn::CompileOptions options{backends[hash % 3], (hash >> 8) % 2 == 1, true};
  mininn::CompiledGraph plan(graph, shapes, options);
  std::vector<mininn::Tensor> inputs;
  for (const mininn::GraphInput& input : graph->inputs) inputs.push_back(make_input(plan.desc(input.value), hash));
  mininn::Execution run(plan);
  run.forward(inputs);
  run.backward({});
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mininn::fuzz::use_small_limits();
  fill_sandbox();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The loader's own depth limit, so that this pre-check parses what it parses.
  json document = json::parse(
      text, [](int depth, json::parse_event_t, json&) { return depth <= 64; }, false);
  if (!document.is_discarded() && !confined(document)) return -1;  // not worth keeping in the corpus

  const uint64_t hash = std::hash<std::string>()(text);
  mininn::set_max_graph_bytes(size_t{4} << 20);
  // MININN_FUZZ_VERBOSE=1 (with replay_model): say what each input did.
  static const bool verbose = std::getenv("MININN_FUZZ_VERBOSE") != nullptr;
  std::shared_ptr<const mininn::Graph> graph;
  try {
    graph = std::make_shared<const mininn::Graph>(mininn::parse_model(text, "fuzz.json", g_sandbox));
  } catch (const mininn::Error& e) {
    if (verbose) std::fprintf(stderr, "load: %s\n", e.what());
    return 0;
  }
  try {
    compile_and_run(graph, hash);
    if (verbose) std::fprintf(stderr, "ran forward and backward\n");
  } catch (const mininn::Error& e) {
    if (verbose) std::fprintf(stderr, "run: %s\n", e.what());
  }
  return 0;
}
