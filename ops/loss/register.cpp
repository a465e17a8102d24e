#include "ops/families.h"
#include "ops/loss/loss.h"

namespace mininn {
namespace loss {

Reduction parse_reduction(const std::string& name) {
  if (name == "none") return Reduction::None;
  if (name == "sum") return Reduction::Sum;
  return Reduction::Mean;
}

AttrSpec reduction_attr() {
  return {"reduction", AttrType::String, "\"mean\"",
          "mean: the average over elements (a scalar); sum: their sum; none: one loss per element",
          {"none", "mean", "sum"}};
}

}  // namespace loss

void register_loss_ops(Registry& registry) {
  loss::register_cross_entropy(registry);
  loss::register_mse(registry);
}

}  // namespace mininn
