// mininn dot: the compiled graph as Graphviz text, with shapes and backends.
#include "framework/error.h"
#include "framework/file.h"
#include "tools/commands.h"

#include <mininn/model.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>

namespace mininn::cli {
namespace {

struct DotOptions {
  std::string model;
  std::string output;  // empty: stdout
  std::string backend = "auto";
  int64_t batch = 1;
  bool training = false;
  bool forward_only = false;
};

void dot(const DotOptions& options) {
  std::string ext = std::filesystem::path(options.output).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png" || ext == ".svg" || ext == ".pdf" || ext == ".jpg")
    fail("mininn dot writes Graphviz text, not {}: write a .dot file and render it with Graphviz, "
         "e.g. dot -T{} graph.dot -o {}",
         ext, ext.substr(1), options.output);
  Backend backend = parse_backend(options.backend);
  Model model = Model::load(options.model);
  Session session = model.compile(
      {.batch = options.batch, .backend = backend, .backward = !options.forward_only, .training = options.training});
  std::string text = session.dot();
  if (options.output.empty()) {
    fmt::print("{}", text);
    return;
  }
  write_file_atomically(options.output, text);
  fmt::print("wrote {}\n", options.output);
}

}  // namespace

Runner add_dot(CLI::App& app) {
  auto options = std::make_shared<DotOptions>();
  CLI::App* cmd = app.add_subcommand(
      "dot", "Write the graph in Graphviz's dot language: inputs, nodes with shapes and backends, outputs");
  cmd->add_option("model", options->model, "the model file (JSON)")->required();
  cmd->add_option("--output,-o", options->output, "the .dot file to write (default: standard output)");
  add_backend_option(cmd, options->backend);
  cmd->add_option("--batch", options->batch, "the batch size for a null batch dimension (default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--training", options->training, "as compiled for training mode");
  cmd->add_flag("--forward-only", options->forward_only,
                "compile for inference only (the default shows forward and backward backends)");
  return [options] { dot(*options); };
}

}  // namespace mininn::cli
