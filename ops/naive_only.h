// Kernel choice for ops that have only the naive kernel so far: the same
// Dispatch record pick_kernel would leave, with the reason shown by inspect.
#pragma once

#include "ops/op.h"

#include <memory>
#include <utility>

namespace mininn {

template <typename KernelType, typename... Args>
std::unique_ptr<Kernel> naive_only(const KernelConfig& config, Args&&... args) {
  std::unique_ptr<Kernel> kernel = std::make_unique<KernelType>(std::forward<Args>(args)...);
  kernel->dispatch.reason =
      config.backend == Backend::Naive ? "naive backend requested" : "no oneDNN kernel for this op yet";
  return kernel;
}

}  // namespace mininn
