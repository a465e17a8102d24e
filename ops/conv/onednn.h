// oneDNN convolution kernels. make_conv2d returns nullptr and says why when
// oneDNN cannot run the configuration; the caller then runs the naive kernel.
#pragma once

#include "ops/conv/conv.h"
#include "ops/op.h"

#include <memory>
#include <string>

namespace mininn::conv::onednn {

std::unique_ptr<Kernel> make_conv2d(const Geometry& geometry, bool has_bias, const KernelConfig& config,
                                    std::string& why);

}  // namespace mininn::conv::onednn
