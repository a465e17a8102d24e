#include "ops/registry.h"

#include "framework/error.h"
#include "ops/families.h"

namespace mininn {

const char* backend_name(Backend backend) {
  switch (backend) {
    case Backend::Auto: return "auto";
    case Backend::OneDnn: return "onednn";
    case Backend::Naive: return "naive";
  }
  return "?";
}

void Kernel::backward(const BackwardArgs&) const { fail("this op has no backward"); }

void Registry::add(OpSchema schema) {
  check(find(schema.name) == nullptr, "internal error: op {} registered twice", schema.name);
  schemas_.push_back(std::move(schema));
}

const OpSchema* Registry::find(const std::string& name) const {
  for (const OpSchema& schema : schemas_)
    if (schema.name == name) return &schema;
  return nullptr;
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const OpSchema& schema : schemas_) out.push_back(schema.name);
  return out;
}

const Registry& registry() {
  static const Registry instance = [] {
    Registry r;
    // One line per op family.
    register_conv_ops(r);
    register_pool_ops(r);
    register_activation_ops(r);
    register_linear_ops(r);
    register_shape_ops(r);
    register_dropout_ops(r);
    register_norm_ops(r);
    register_loss_ops(r);
    return r;
  }();
  return instance;
}

}  // namespace mininn
