// Each op family registers its ops here; ops/registry.cpp calls these.
#pragma once

namespace mininn {

class Registry;

void register_conv_ops(Registry& registry);  // ops/conv/
void register_pool_ops(Registry& registry);  // ops/pool/
void register_activation_ops(Registry& registry);  // ops/activation/
void register_linear_ops(Registry& registry);      // ops/linear/
void register_shape_ops(Registry& registry);       // ops/shape/
void register_dropout_ops(Registry& registry);     // ops/dropout/
void register_norm_ops(Registry& registry);        // ops/norm/
void register_loss_ops(Registry& registry);        // ops/loss/

}  // namespace mininn
