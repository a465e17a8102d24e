// mininn: run, inspect, bench (and more) JSON-described networks.
#include "framework/error.h"
#include "framework/tensor.h"
#include "tools/commands.h"

#include <fmt/format.h>
#include <omp.h>

#include <cstdio>
#include <exception>
#include <map>
#include <optional>

int main(int argc, char** argv) {
  CLI::App app{"mininn: a small, exact deep-learning framework. Networks are JSON files whose ops and attributes "
               "are named as in torch.nn."};
  app.require_subcommand(1);
  // Resource limits, before or after the subcommand (fallthrough), or from
  // the environment; sizes take K, M, G suffixes (powers of 1024).
  app.fallthrough();
  std::optional<uint64_t> max_tensor_bytes, max_graph_bytes;
  app.add_option("--max-tensor-bytes", max_tensor_bytes, "the largest tensor to allocate (default 16G)")
      ->envname("MININN_MAX_TENSOR_BYTES")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--max-graph-bytes", max_graph_bytes,
                 "the most one model may hold: parameters, values and gradients (default 64G)")
      ->envname("MININN_MAX_GRAPH_BYTES")
      ->transform(CLI::AsSizeValue(false));
  // OpenMP threads for every kernel, oneDNN's included (Debian's oneDNN runs
  // on OpenMP); unset, OpenMP's default: OMP_NUM_THREADS, else every core.
  std::optional<int> threads;
  app.add_option("--threads", threads, "N: the number of threads to compute with (default: every core)")
      ->check(mininn::cli::whole_number(1, 1024));  // thousands of threads only fail
  std::map<CLI::App*, mininn::cli::Runner> runners;
  for (auto add : {mininn::cli::add_run, mininn::cli::add_inspect, mininn::cli::add_dot, mininn::cli::add_ops,
                    mininn::cli::add_train, mininn::cli::add_bench}) {
    size_t before = app.get_subcommands({}).size();
    mininn::cli::Runner runner = add(app);
    runners[app.get_subcommands({})[before]] = runner;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s (see 'mininn --help')\n", e.what());
    return 2;
  }
  if (threads) omp_set_num_threads(*threads);
  if (max_tensor_bytes) mininn::set_max_tensor_bytes(*max_tensor_bytes);
  if (max_graph_bytes) mininn::set_max_graph_bytes(*max_graph_bytes);
  try {
    for (auto& [command, runner] : runners)
      if (command->parsed()) runner();
  } catch (const mininn::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
