// mininn ops: every op and its attributes, from the registry; --markdown
// prints docs/ops/reference.md (a test keeps the committed page in step).
#include "framework/error.h"
#include "tools/commands.h"

#include <mininn/ops.h>

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace mininn::cli {
namespace {

struct OpsOptions {
  std::vector<std::string> ops;  // empty: all
  bool markdown = false;
};

std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string type_text(const AttrInfo& attr, bool markdown) {
  std::string type = attr.type;
  if (!attr.choices.empty()) {
    type += ": ";
    for (size_t i = 0; i < attr.choices.size(); ++i)
      type += (i ? ", " : "") + (markdown ? "`\"" + attr.choices[i] + "\"`" : "\"" + attr.choices[i] + "\"");
  }
  if (attr.nullable) type += ", or null";
  return type;
}

std::string inputs_text(const OpInfo& op, bool markdown) {
  std::string out;
  for (const PortInfo& in : op.inputs)
    out += fmt::format("{}{}{}{}{} — {}", out.empty() ? "" : "; ", markdown ? "`" : "", in.name, markdown ? "`" : "",
                       in.optional ? " (optional)" : "", in.doc);
  return out;
}

std::string outputs_text(const OpInfo& op, bool markdown) {
  std::string out;
  for (const std::string& name : op.outputs) out += fmt::format("{}{}{}{}", out.empty() ? "" : ", ", markdown ? "`" : "", name, markdown ? "`" : "");
  return out;
}

std::string markdown_section(const OpInfo& op) {
  std::string out = fmt::format("## {}\n\n{}. Family: [{}]({}.md).\n\n", op.name, op.summary, op.family, op.family);
  out += fmt::format("- inputs: {}\n- outputs: {}\n\n", inputs_text(op, true), outputs_text(op, true));
  if (op.attributes.empty()) return out + "No attributes.\n\n";
  out += "| attribute | type | default | meaning |\n|---|---|---|---|\n";
  for (const AttrInfo& attr : op.attributes)
    out += fmt::format("| `{}` | {} | {} | {} |\n", attr.name, cell(type_text(attr, true)),
                       attr.required() ? "required" : "`" + cell(attr.default_value) + "`", cell(attr.doc));
  return out + "\n";
}

std::string markdown_page(const std::vector<OpInfo>& ops) {
  std::string out =
      "# Op reference\n\n"
      "<!-- Generated from the op registry by `mininn ops --markdown`; do not edit.\n"
      "     Regenerate: build/mininn ops --markdown > docs/ops/reference.md -->\n\n"
      "Every op mininn knows, with every attribute: its type, its default and what\n"
      "it means. Op and attribute names and defaults are PyTorch's (`torch.nn.<op>`);\n"
      "an attribute without a default is required. How a model writes them:\n"
      "[the model format](../model-format.md). The family pages in this folder\n"
      "explain the semantics.\n\n"
      "| op | family | summary |\n|---|---|---|\n";
  for (const OpInfo& op : ops) {
    std::string anchor = op.name;
    std::transform(anchor.begin(), anchor.end(), anchor.begin(), [](unsigned char c) { return std::tolower(c); });
    out += fmt::format("| [{}](#{}) | {} | {} |\n", op.name, anchor, op.family, cell(op.summary));
  }
  out += "\n";
  for (const OpInfo& op : ops) out += markdown_section(op);
  out.pop_back();  // one newline at the end of the file
  return out;
}

void print_details(const OpInfo& op) {
  fmt::print("{} ({}): {}\n", op.name, op.family, op.summary);
  fmt::print("  inputs:  {}\n  outputs: {}\n", inputs_text(op, false), outputs_text(op, false));
  if (op.attributes.empty()) {
    fmt::print("  no attributes\n");
    return;
  }
  size_t name_width = 0, type_width = 0, default_width = 0;
  for (const AttrInfo& attr : op.attributes) {
    name_width = std::max(name_width, attr.name.size());
    type_width = std::max(type_width, type_text(attr, false).size());
    default_width = std::max(default_width, attr.required() ? 8 : attr.default_value.size());
  }
  fmt::print("  attributes:\n");
  for (const AttrInfo& attr : op.attributes)
    fmt::print("    {:<{}}  {:<{}}  {:<{}}  {}\n", attr.name, name_width, type_text(attr, false), type_width,
               attr.required() ? "required" : attr.default_value, default_width, attr.doc);
}

void ops(const OpsOptions& options) {
  std::vector<OpInfo> selected;
  if (options.ops.empty()) selected = available_ops();
  for (const std::string& name : options.ops) selected.push_back(find_op(name));
  if (options.markdown) {
    fmt::print("{}", markdown_page(selected));
    return;
  }
  if (options.ops.empty()) {
    size_t width = 0;
    for (const OpInfo& op : selected) width = std::max(width, op.name.size());
    for (const OpInfo& op : selected) fmt::print("{:<{}}  {:<10}  {}\n", op.name, width, op.family, op.summary);
    fmt::print("\n{} ops; `mininn ops NAME` shows one with its attributes.\n", selected.size());
    return;
  }
  for (size_t i = 0; i < selected.size(); ++i) {
    if (i) fmt::print("\n");
    print_details(selected[i]);
  }
}

}  // namespace

Runner add_ops(CLI::App& app) {
  auto options = std::make_shared<OpsOptions>();
  CLI::App* cmd = app.add_subcommand("ops", "List every op, or show ops with their attributes (from the op registry)");
  cmd->add_option("op", options->ops, "op names (torch.nn class names) to show in detail");
  cmd->add_flag("--markdown", options->markdown, "print the op reference page (docs/ops/reference.md)");
  return [options] { ops(*options); };
}

}  // namespace mininn::cli
