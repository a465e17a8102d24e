#include "ops/activation/activation.h"
#include "ops/families.h"

namespace mininn {

void register_activation_ops(Registry& registry) {
  activation::register_elementwise(registry);
  activation::register_softmax(registry);
}

}  // namespace mininn
