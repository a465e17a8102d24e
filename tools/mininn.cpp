// mininn: run, inspect (and more) JSON-described networks.
#include "framework/error.h"
#include "tools/commands.h"

#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <map>

int main(int argc, char** argv) {
  CLI::App app{"mininn: a small, exact deep-learning framework. Networks are JSON files whose ops and attributes "
               "are named as in torch.nn."};
  app.require_subcommand(1);
  std::map<CLI::App*, mininn::cli::Runner> runners;
  for (auto add : {mininn::cli::add_run, mininn::cli::add_inspect, mininn::cli::add_dot, mininn::cli::add_ops,
                    mininn::cli::add_train}) {
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
