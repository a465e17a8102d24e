// mininn_conformance: runs the PyTorch differential cases that gen_cases.py
// wrote through the library, one backend at a time.
//
//   mininn_conformance --cases build/tests/conformance/cases --backend naive
//                      [--filter max_pool/01] [--verbose]
//
// Each case is a folder with case.json (format: README.md) and .npy files.
// A case expecting values loads the model (parse_model, relative files
// against the case folder), compiles it for the inputs' shapes, runs forward
// and, with upstream gradients, backward, and compares every output and
// gradient. A case expecting an error checks that mininn raises an Error at
// that stage: "load" (parse_model) or "run" (compile, forward or backward).
// Prints one line per family and a total; exits non-zero on any failure,
// listing each failing case with its "about" text and the first mismatch.
#include "compare.h"
#include "framework/error.h"
#include "framework/image.h"
#include "framework/npy.h"
#include "graph/executor.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace mininn::conformance {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Options {
  fs::path cases;
  Backend backend = Backend::Naive;
  std::string filter;
  bool verbose = false;
};

// A case failed: what went wrong, for the report.
struct Failure {
  std::string what;
};

json read_json(const fs::path& path) {
  std::ifstream file(path);
  if (!file) throw Failure{fmt::format("cannot open {}", path.string())};
  try {
    return json::parse(file);
  } catch (const json::exception& e) {
    throw Failure{fmt::format("{}: {}", path.string(), e.what())};
  }
}

Compare compare_mode(const json& expectation) {
  std::string mode = expectation.value("compare", "close");
  if (mode == "exact") return Compare::Exact;
  if (mode == "close") return Compare::Close;
  throw Failure{fmt::format("unknown compare mode '{}'", mode)};
}

// A graph input from a case file: .npy, or a photo decoded as `mininn run` does.
Tensor read_input(const fs::path& path, const TensorDesc& desc) {
  std::string ext = path.extension().string();
  if (ext == ".npy") return read_npy(path.string(), desc.dtype);
  Tensor image = read_image(path.string(), desc.shape[desc.shape.size() - 3] == 3 ? ColorMode::RGB : ColorMode::Gray);
  if (desc.shape.size() == 4) image = image.reshaped({1, image.dim(0), image.dim(1), image.dim(2)});
  return image;
}

class CaseRun {
 public:
  CaseRun(fs::path dir, const json& document, Backend backend)
      : dir_(std::move(dir)), doc_(document), backend_(backend) {}

  void run() {
    if (doc_.contains("error")) return expect_error();
    const json& expect = doc_.at("expect");
    Graph graph = load();
    auto shared = std::make_shared<const Graph>(std::move(graph));
    const bool backward = expect.contains("grad_outputs");
    Execution& execution = execute(shared, backward);
    const Graph& g = *shared;

    for (const auto& [name, expectation] : expect.at("outputs").items()) {
      int v = g.find_value(name);
      if (v < 0) throw Failure{fmt::format("the model has no value '{}'", name)};
      check_tensor(fmt::format("output '{}'", name), execution.value(v), expectation);
    }
    if (!backward) return;
    for (const auto& [name, expectation] : expect.at("grads").items()) {
      int v = g.find_value(name), p = g.find_param(name);
      Tensor got;
      if (v >= 0) {
        got = execution.grad(v);
        if (!got.defined()) got = Tensor::zeros(plan_->desc(v).shape);  // no gradient reached it: zeros, as `mininn run` writes
      } else if (p >= 0) {
        got = execution.param_grad(p);
        if (!got.defined()) got = Tensor::zeros(g.params[p].tensor.shape());
      } else {
        throw Failure{fmt::format("the model has no input or parameter '{}'", name)};
      }
      check_tensor(fmt::format("gradient of '{}'", name), got, expectation);
    }
  }

 private:
  Graph load() {
    return parse_model(doc_.at("model").dump(), (dir_ / "case.json").string() + " model", dir_.string());
  }

  // Compiles for the case's inputs and runs forward (and backward when the
  // case gives upstream gradients). Throws whatever mininn throws.
  Execution& execute(const std::shared_ptr<const Graph>& graph, bool backward) {
    const Graph& g = *graph;
    const json& files = doc_.at("inputs");
    std::vector<Tensor> inputs;
    std::vector<Shape> shapes;
    for (const GraphInput& input : g.inputs) {
      const Value& value = g.values[input.value];
      if (!files.contains(value.name)) throw Failure{fmt::format("the case gives no file for input '{}'", value.name)};
      inputs.push_back(read_input(dir_ / files.at(value.name).get<std::string>(), value.desc));
      shapes.push_back(inputs.back().shape());
    }
    plan_ = std::make_unique<CompiledGraph>(graph, shapes, CompileOptions{backend_, false, backward});
    execution_ = std::make_unique<Execution>(*plan_);
    execution_->forward(inputs);
    if (backward) {
      std::vector<std::pair<int, Tensor>> seeds;
      const json& expect = doc_.contains("expect") ? doc_["expect"] : doc_["error"];
      for (const auto& [name, file] : expect.at("grad_outputs").items()) {
        int v = g.find_value(name);
        if (v < 0) throw Failure{fmt::format("the model has no value '{}'", name)};
        seeds.emplace_back(v, read_npy((dir_ / file.get<std::string>()).string(), DType::Float32));
      }
      execution_->backward(seeds);
    }
    return *execution_;
  }

  void check_tensor(const std::string& what, const Tensor& got, const json& expectation) {
    Tensor want = read_npy((dir_ / expectation.at("file").get<std::string>()).string());
    std::string difference = compare(got, want, compare_mode(expectation));
    if (!difference.empty()) throw Failure{fmt::format("{}: {}", what, difference)};
  }

  void expect_error() {
    const json& error = doc_.at("error");
    const std::string stage = error.at("stage").get<std::string>();
    const std::string pytorch = error.value("pytorch", "");
    std::shared_ptr<const Graph> graph;
    try {
      graph = std::make_shared<const Graph>(load());
    } catch (const Error& e) {
      if (stage == "load") return;
      throw Failure{fmt::format("expected an error when running, but loading failed: {}\n      PyTorch: {}", e.what(), pytorch)};
    }
    if (stage == "load")
      throw Failure{fmt::format("expected an error when loading, but the model loaded\n      PyTorch: {}", pytorch)};
    try {
      execute(graph, error.contains("grad_outputs"));
    } catch (const Error&) {
      return;
    }
    throw Failure{fmt::format("expected an error when running, but the model ran\n      PyTorch: {}", pytorch)};
  }

  fs::path dir_;
  const json& doc_;
  Backend backend_;
  std::unique_ptr<CompiledGraph> plan_;
  std::unique_ptr<Execution> execution_;
};

struct FamilyTally {
  int passed = 0, total = 0;
};

int run(const Options& options) {
  if (!fs::is_directory(options.cases)) {
    fmt::print(stderr, "mininn_conformance: no cases folder {} (run gen_cases.py first)\n", options.cases.string());
    return 2;
  }
  const char* backend = backend_name(options.backend);
  auto started = std::chrono::steady_clock::now();
  std::map<std::string, FamilyTally> tally;
  std::vector<std::string> failures;

  std::vector<fs::path> families;
  for (const auto& entry : fs::directory_iterator(options.cases))
    if (entry.is_directory()) families.push_back(entry.path());
  std::sort(families.begin(), families.end());
  for (const fs::path& family : families) {
    std::vector<fs::path> dirs;
    for (const auto& entry : fs::directory_iterator(family))
      if (fs::is_regular_file(entry.path() / "case.json")) dirs.push_back(entry.path());
    std::sort(dirs.begin(), dirs.end());
    for (const fs::path& dir : dirs) {
      std::string id = family.filename().string() + "/" + dir.filename().string();
      if (!options.filter.empty() && id.find(options.filter) == std::string::npos) continue;
      FamilyTally& t = tally[family.filename().string()];
      ++t.total;
      std::string about = "?", problem;
      try {
        json document = read_json(dir / "case.json");
        about = document.value("about", "?");
        CaseRun(dir, document, options.backend).run();
      } catch (const Failure& f) {
        problem = f.what;
      } catch (const Error& e) {
        problem = fmt::format("mininn raised: {}", e.what());
      } catch (const std::exception& e) {
        problem = fmt::format("mininn threw something other than mininn::Error: {}", e.what());
      }
      if (problem.empty()) {
        ++t.passed;
        if (options.verbose) fmt::print("ok   {} {}\n", id, about);
      } else {
        failures.push_back(fmt::format("FAIL {} {}\n      {}", id, about, problem));
        if (options.verbose) fmt::print("{}\n", failures.back());
      }
    }
  }

  int passed = 0, total = 0;
  for (const auto& [family, t] : tally) {
    fmt::print("conformance[{}]: {:<10} {}/{}\n", backend, family, t.passed, t.total);
    passed += t.passed;
    total += t.total;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!options.verbose)
    for (const std::string& failure : failures) fmt::print("{}\n", failure);
  fmt::print("conformance[{}]: total {}/{} passed in {:.1f} s\n", backend, passed, total, seconds);
  if (total == 0) {
    fmt::print(stderr, "mininn_conformance: no cases matched\n");
    return 2;
  }
  return passed == total ? 0 : 1;
}

int usage(const char* message) {
  fmt::print(stderr,
             "{}\nusage: mininn_conformance --cases DIR [--backend naive|onednn|auto] [--filter SUBSTRING] [--verbose]\n",
             message);
  return 2;
}

}  // namespace
}  // namespace mininn::conformance

int main(int argc, char** argv) {
  using namespace mininn::conformance;
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--cases") options.cases = value();
      else if (arg == "--filter") options.filter = value();
      else if (arg == "--verbose") options.verbose = true;
      else if (arg == "--backend") {
        std::string name = value();
        if (name == "naive") options.backend = mininn::Backend::Naive;
        else if (name == "onednn") options.backend = mininn::Backend::OneDnn;
        else if (name == "auto") options.backend = mininn::Backend::Auto;
        else return usage(("unknown backend " + name).c_str());
      } else return usage(("unknown argument " + arg).c_str());
    } catch (const std::exception& e) {
      return usage(e.what());
    }
  }
  if (options.cases.empty()) return usage("--cases is required");
  return run(options);
}
