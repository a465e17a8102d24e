// The loss family: CrossEntropyLoss and MSELoss. A loss node takes the
// prediction and the target and outputs a scalar (reduction "mean" or
// "sum") or one loss per element ("none"); its backward gives the
// prediction's gradient (and MSELoss's target's).
#pragma once

#include "ops/registry.h"

#include <string>

namespace mininn::loss {

enum class Reduction { None, Mean, Sum };
Reduction parse_reduction(const std::string& name);

AttrSpec reduction_attr();

void register_cross_entropy(Registry& registry);  // cross_entropy.cpp
void register_mse(Registry& registry);            // mse.cpp

}  // namespace mininn::loss
