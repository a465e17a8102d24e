// oneDNN kernels of the pooling family. Each returns nullptr and says why
// when oneDNN cannot give PyTorch's exact result for the configuration; the
// caller then runs the naive kernel. How each PyTorch option maps onto
// oneDNN 2.6, and what falls back, is in docs/onednn.md.
#pragma once

#include "ops/op.h"
#include "ops/pool/geometry.h"
#include "ops/pool/naive.h"

#include <memory>
#include <string>

namespace mininn::pool::onednn {

std::unique_ptr<Kernel> make_max_pool(const Geometry& geometry, const Window& window, bool returns_indices,
                                      const KernelConfig& config, std::string& why);
std::unique_ptr<Kernel> make_avg_pool(const Geometry& geometry, const Window& window, const AvgOptions& options,
                                      const KernelConfig& config, std::string& why);
// Adaptive pools run as plain pools when every input size divides evenly.
// `rank` is the number of spatial dimensions (1, 2 or 3).
std::unique_ptr<Kernel> make_adaptive_avg_pool(const Geometry& geometry, int rank, const KernelConfig& config,
                                               std::string& why);
std::unique_ptr<Kernel> make_adaptive_max_pool(const Geometry& geometry, int rank, bool returns_indices,
                                               const KernelConfig& config, std::string& why);

}  // namespace mininn::pool::onednn
