// The mininn command line: each subcommand registers its options on the CLI11
// app and runs through the library; this folder only parses, calls, prints.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <mininn/backend.h>

#include <cstdint>
#include <functional>
#include <string>

namespace mininn::cli {

// Registers a subcommand; the returned function runs it after parsing.
using Runner = std::function<void()>;
Runner add_run(CLI::App& app);
Runner add_inspect(CLI::App& app);
Runner add_dot(CLI::App& app);
Runner add_ops(CLI::App& app);
Runner add_train(CLI::App& app);
Runner add_bench(CLI::App& app);

// --backend, the same on every subcommand: the name stays a string (so the
// usage error quotes what was typed) and parse_backend turns it into a Backend.
inline CLI::Option* add_backend_option(CLI::App* cmd, std::string& name) {
  return cmd->add_option("--backend", name, "auto (default): oneDNN where exact, else naive; or force onednn / naive")
      ->check(CLI::IsMember({"auto", "onednn", "naive"}));
}

inline Backend parse_backend(const std::string& name) {
  if (name == "onednn") return Backend::OneDnn;
  if (name == "naive") return Backend::Naive;
  return Backend::Auto;
}

// 512 B, 3.5 KiB, 2.1 MiB.
inline std::string bytes_text(size_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
}

// A count option's check, with a message a person can read (CLI11's
// PositiveNumber prints the range up to DBL_MAX).
inline CLI::Validator whole_number(int64_t min, int64_t max = INT64_MAX) {
  std::string range = max == INT64_MAX ? "of at least " + std::to_string(min)
                                       : "from " + std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [=](const std::string& text) {
        int64_t n = 0;
        bool ok = CLI::detail::lexical_cast(text, n) && n >= min && n <= max;
        return ok ? std::string() : "must be a whole number " + range + ", got '" + text + "'";
      },
      "N");
}

}  // namespace mininn::cli
