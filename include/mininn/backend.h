// Which kernels run a node.
#pragma once

#include <mininn/config.h>

namespace mininn {

enum class Backend {
  Auto,    // oneDNN where it gives PyTorch's exact result, the naive kernel elsewhere (per node)
  OneDnn,  // prefer oneDNN; a node it cannot run still falls back, and says why
  Naive,   // the reference kernels only
};

MININN_API const char* backend_name(Backend backend);  // "auto", "onednn", "naive"

}  // namespace mininn
