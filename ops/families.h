// Each op family registers its ops here; ops/registry.cpp calls these.
#pragma once

namespace mininn {

class Registry;

void register_conv_ops(Registry& registry);  // ops/conv/
void register_pool_ops(Registry& registry);  // ops/pool/

}  // namespace mininn
