// Conv2d: geometry shared by the shape rule, the naive kernels and oneDNN.
#pragma once

#include "framework/shape.h"

#include <cstdint>
#include <string>

namespace mininn::conv {

enum class PaddingMode { Zeros, Reflect, Replicate, Circular };
PaddingMode parse_padding_mode(const std::string& name);

// One convolution over an (N, C, H, W) input, unbatched inputs seen as N=1.
struct Geometry {
  int64_t batch = 1, in_channels = 1, out_channels = 1, groups = 1;
  int64_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  PaddingMode mode = PaddingMode::Zeros;

  int64_t in_per_group() const { return in_channels / groups; }
  int64_t out_per_group() const { return out_channels / groups; }
  int64_t macs() const { return batch * out_channels * out_h * out_w * in_per_group() * kernel_h * kernel_w; }
};

// Where padded row/column `i` (in unpadded coordinates, possibly outside
// [0, size)) reads from under the padding mode, or -1 for a zero.
inline int64_t source_index(int64_t i, int64_t size, PaddingMode mode) {
  if (i >= 0 && i < size) return i;
  switch (mode) {
    case PaddingMode::Zeros: return -1;
    case PaddingMode::Reflect: return i < 0 ? -i : 2 * (size - 1) - i;
    case PaddingMode::Replicate: return i < 0 ? 0 : size - 1;
    case PaddingMode::Circular: return ((i % size) + size) % size;
  }
  return -1;
}

// Naive reference kernels (double accumulation). Weights are
// (out_channels, in_channels/groups, kernel_h, kernel_w); bias may be null.
void naive_forward(const Geometry& g, const float* x, const float* w, const float* bias, float* y);
// Any of gx, gw, gb may be null when that gradient is not wanted.
void naive_backward(const Geometry& g, const float* x, const float* w, const float* gy, float* gx, float* gw, float* gb);

}  // namespace mininn::conv
