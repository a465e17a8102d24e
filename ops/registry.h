// The op registry: every op mininn knows, by its torch.nn class name.
#pragma once

#include "ops/op.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mininn {

struct InputSpec {
  std::string name;   // "input", "indices"
  std::string doc;
  bool optional = false;
};

struct OpSchema {
  std::string name;     // torch.nn class name: "MaxPool2d"
  std::string family;   // docs page: "pool", "conv"
  std::string summary;  // one line for docs and --help
  int spatial_rank = 0; // length of list attributes (2 for MaxPool2d); 0 if none
  std::vector<AttrSpec> attrs;
  std::vector<InputSpec> inputs;
  std::vector<std::string> outputs;  // names of the possible outputs, for docs
  std::function<std::unique_ptr<Op>(const Attrs&)> create;
};

class Registry {
 public:
  void add(OpSchema schema);
  const OpSchema* find(const std::string& name) const;
  const std::vector<OpSchema>& all() const { return schemas_; }
  std::vector<std::string> names() const;

 private:
  std::vector<OpSchema> schemas_;
};

// The registry with every built-in op.
const Registry& registry();

}  // namespace mininn
