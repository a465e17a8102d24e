// mininn run: forward (and backward) through a model, outputs to .npy/.png.
#include "framework/error.h"
#include "framework/image.h"
#include "framework/npy.h"
#include "graph/executor.h"
#include "tools/commands.h"
#include "tools/inputs.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

namespace mininn::cli {
namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs, grad_outputs;
  std::string output_dir = "out";
  std::string backend = "auto";
  bool backward = false, training = false, png = false;
  std::optional<uint64_t> random_inputs;
  int64_t batch = 1;
};

void make_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  check(!ec, "cannot create the output folder {}: {}", dir, ec.message());
}

void write_value(const std::string& dir, const std::string& name, const Tensor& t, bool png) {
  std::string path = (std::filesystem::path(dir) / (name + ".npy")).string();
  write_npy(path, t);
  fmt::print("wrote {} {}\n", path, to_string(t.desc()));
  if (png && t.dtype() == DType::Float32 && t.numel() > 0) {
    std::string picture = (std::filesystem::path(dir) / (name + ".png")).string();
    write_png_picture(picture, t);
    fmt::print("wrote {}\n", picture);
  }
}

void run(const RunOptions& options) {
  auto graph = std::make_shared<const Graph>(load_model(options.model));
  std::vector<Tensor> inputs = load_inputs(*graph, parse_assignments(options.inputs, "--input"),
                                           options.random_inputs, options.batch);
  auto seeds_given = parse_assignments(options.grad_outputs, "--grad-output");
  check(seeds_given.empty() || options.backward, "--grad-output needs --backward");

  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  Backend backend = parse_backend(options.backend);
  CompiledGraph plan(graph, shapes, {backend, options.training, options.backward});
  if (backend == Backend::OneDnn) {
    for (int n : graph->schedule) {
      const Dispatch& d = plan.kernel(n).dispatch;
      if (d.forward != "onednn" || (options.backward && d.backward != "onednn"))
        fmt::print(stderr, "note: node '{}' ({}) falls back to the naive kernel: {}\n", graph->nodes[n].name,
                   graph->nodes[n].schema->name, d.reason);
    }
  }

  // Everything that can fail on bad input is read before anything runs, and
  // nothing is written until everything has run.
  std::vector<std::pair<int, Tensor>> seeds;
  for (const auto& [name, path] : seeds_given) {
    int v = graph->find_value(name);
    bool is_output = v >= 0 && std::find(graph->outputs.begin(), graph->outputs.end(), v) != graph->outputs.end();
    check(is_output, "--grad-output names '{}', which is not an output of the model", name);
    Tensor seed = read_tensor_file(path, plan.desc(v), fmt::format("the gradient of '{}'", name));
    check(seed.desc() == plan.desc(v), "the gradient of '{}' must be {}, but {} holds {}", name, to_string(plan.desc(v)),
          path, to_string(seed.desc()));
    seeds.emplace_back(v, seed);
  }

  Execution execution(plan);
  execution.forward(inputs);
  if (options.backward) execution.backward(seeds);

  make_dir(options.output_dir);
  for (size_t i = 0; i < graph->outputs.size(); ++i)
    write_value(options.output_dir, graph->values[graph->outputs[i]].name, execution.output(i), options.png);
  if (!options.backward) return;
  std::string grad_dir = (std::filesystem::path(options.output_dir) / "grad").string();
  make_dir(grad_dir);
  for (const GraphInput& input : graph->inputs) {
    if (!input.requires_grad) continue;
    const Tensor& g = execution.grad(input.value);
    write_value(grad_dir, graph->values[input.value].name, g.defined() ? g : Tensor::zeros(plan.desc(input.value).shape),
                false);
  }
  for (size_t p = 0; p < graph->params.size(); ++p) {
    if (!graph->params[p].trainable) continue;
    const Tensor& g = execution.param_grad(static_cast<int>(p));
    write_value(grad_dir, graph->params[p].name, g.defined() ? g : Tensor::zeros(graph->params[p].tensor.shape()), false);
  }
}

}  // namespace

Runner add_run(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Run a model forward (and backward); write every output as .npy");
  cmd->add_option("model", options->model, "the model file (JSON)")->required();
  cmd->add_option("--input,-i", options->inputs, "NAME=PATH: a graph input from .npy, .png, .jpg, .jpeg or .bmp");
  cmd->add_option("--output-dir,-o", options->output_dir, "where outputs go (default: out)");
  add_backend_option(cmd, options->backend);
  cmd->add_flag("--backward", options->backward,
                "back-propagate; gradients of inputs and parameters go to DIR/grad/");
  cmd->add_option("--grad-output", options->grad_outputs,
                  "NAME=PATH: the upstream gradient of an output (default: ones for every float output)");
  cmd->add_flag("--training", options->training, "training mode (BatchNorm batch statistics, Dropout active)");
  cmd->add_flag("--png", options->png, "also write a picture of every float output");
  cmd->add_option("--random-inputs", options->random_inputs, "SEED: random normal values for inputs not given");
  cmd->add_option("--batch", options->batch, "the batch size of random inputs with a null batch (default 1)")
      ->check(CLI::PositiveNumber);
  return [options] { run(*options); };
}

}  // namespace mininn::cli
