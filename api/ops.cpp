// The op catalog: the registry's schemas as plain public structs.
#include "api/internal.h"
#include "ops/registry.h"

#include <mininn/ops.h>

namespace mininn {
namespace {

OpInfo describe(const OpSchema& schema) {
  OpInfo op{schema.name, schema.family, schema.summary, {}, {}, schema.outputs};
  for (const AttrSpec& attr : schema.attrs)
    op.attributes.push_back({attr.name, attr_type_name(attr.type), attr.default_json, attr.doc, attr.choices, attr.nullable});
  for (const InputSpec& input : schema.inputs) op.inputs.push_back({input.name, input.doc, input.optional});
  return op;
}

}  // namespace

std::vector<OpInfo> available_ops() {
  return api::guarded([] {
    std::vector<OpInfo> ops;
    for (const OpSchema& schema : registry().all()) ops.push_back(describe(schema));
    return ops;
  });
}

OpInfo find_op(std::string_view name) {
  return api::guarded([&] {
    std::vector<std::string> names = registry().names();
    return describe(registry().all()[api::find_name(names, name, "unknown op", "the ops are")]);
  });
}

}  // namespace mininn
