// PyTorch's initialisation bounds, computed in double exactly as torch.nn.init
// computes them in Python, so the same generator draws the same weights.
#pragma once

#include <cmath>
#include <cstdint>

namespace mininn {

// torch.nn.init.kaiming_uniform_(w, a) with mode fan_in, leaky_relu gain:
// U(-bound, bound), bound = sqrt(3) * sqrt(2 / (1 + a^2)) / sqrt(fan_in).
inline double kaiming_uniform_bound(int64_t fan_in, double a) {
  double gain = std::sqrt(2.0 / (1 + a * a));
  double std = gain / std::sqrt(static_cast<double>(fan_in));
  return std::sqrt(3.0) * std;
}

// The default of Conv and Linear: kaiming_uniform_(weight, a=sqrt(5)) and
// bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
inline double default_weight_bound(int64_t fan_in) { return kaiming_uniform_bound(fan_in, std::sqrt(5.0)); }
inline double default_bias_bound(int64_t fan_in) { return fan_in > 0 ? 1 / std::sqrt(static_cast<double>(fan_in)) : 0; }

}  // namespace mininn
