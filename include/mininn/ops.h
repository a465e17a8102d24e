// The ops mininn knows, with every attribute, from the op registry — the
// table that also validates models and generates docs/ops/reference.md.
//
//   for (const mininn::OpInfo& op : mininn::available_ops())
//     std::cout << op.name << ": " << op.summary << "\n";
#pragma once

#include <mininn/config.h>

#include <string>
#include <string_view>
#include <vector>

namespace mininn {

struct AttrInfo {
  std::string name;           // PyTorch's argument name: "kernel_size"
  std::string type;           // "int", "bool", "int or list of ints", ...
  std::string default_value;  // as JSON ("1", "null", "false"); empty when required
  std::string doc;
  std::vector<std::string> choices;  // the allowed strings of a string attribute
  bool nullable = false;             // null is a meaningful value (stride: null is kernel_size)

  bool required() const { return default_value.empty(); }
};

struct PortInfo {
  std::string name;  // "input", "indices"
  std::string doc;
  bool optional = false;
};

struct OpInfo {
  std::string name;     // torch.nn class name: "MaxPool2d"
  std::string family;   // "pool", "conv", ... (docs/ops/<family>.md)
  std::string summary;  // one line
  std::vector<AttrInfo> attributes;
  std::vector<PortInfo> inputs;
  std::vector<std::string> outputs;  // every output the op can produce, in order
};

MININN_API std::vector<OpInfo> available_ops();  // in registry order
// One op by name; throws Error (with a suggestion) for an unknown name.
MININN_API OpInfo find_op(std::string_view name);

}  // namespace mininn
