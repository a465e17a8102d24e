// The mininn command line: each subcommand registers its options on the CLI11
// app and runs through the library; this folder only parses, calls, prints.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace mininn::cli {

// Registers a subcommand; the returned function runs it after parsing.
using Runner = std::function<void()>;
Runner add_run(CLI::App& app);
Runner add_inspect(CLI::App& app);
Runner add_dot(CLI::App& app);
Runner add_ops(CLI::App& app);
Runner add_train(CLI::App& app);

}  // namespace mininn::cli
