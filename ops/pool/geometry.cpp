#include "ops/pool/geometry.h"

#include "framework/error.h"

#include <fmt/format.h>

#include <algorithm>

namespace mininn::pool {
namespace {

// Attributes come from the model file, so every intermediate of the window
// arithmetic is computed in 128 bits (int64 attributes cannot overflow it)
// and a result outside int64 is an error, never a wrapped size.
using Wide = __int128;

int64_t narrow(Wide value, const char* what) {
  if (value > INT64_MAX || value < INT64_MIN) fail("{} overflows int64: the window attributes are too large", what);
  return static_cast<int64_t>(value);
}

Wide floor_div(Wide a, Wide b) {
  Wide q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

int64_t output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode) {
  check(stride != 0, "stride should not be zero");  // callers check first, with their op's message
  Wide span = Wide(dilation) * (Wide(kernel) - 1) + 1;
  // Kernels add and subtract starts, spans and padded sizes in int64: with
  // each at most 2^62, no sum of two can wrap.
  constexpr Wide kLargest = Wide(1) << 62;
  if (span > kLargest || Wide(in) + 2 * Wide(pad) > kLargest)
    fail("the window (kernel_size {}, dilation {}) or the padded input (size {}, padding {}) spans more than 2^62",
         kernel, dilation, in, pad);
  Wide out = floor_div(Wide(in) + 2 * Wide(pad) - span + (ceil_mode ? Wide(stride) - 1 : 0), stride) + 1;
  // The last window must start inside the input or its left padding.
  if (ceil_mode && (out - 1) * stride >= Wide(in) + pad) --out;
  return narrow(out, "the pooling output size");
}

int64_t fractional_start(int64_t i, float sample, int64_t in, int64_t out, int64_t kernel) {
  if (i == out - 1) return in - kernel;
  float alpha = static_cast<float>(in - kernel) / static_cast<float>(out - 1);
  return static_cast<int64_t>((static_cast<float>(i) + sample) * alpha) - static_cast<int64_t>(sample * alpha);
}

int64_t unpool_default_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return narrow((Wide(in) - 1) * stride + kernel - 2 * Wide(pad), "the unpooling output size");
}

int64_t Axis::right_pad() const {
  int64_t span = dilation * (kernel - 1) + 1;
  int64_t needed = (out - 1) * stride + span - in - pad;
  return needed > pad ? needed : pad;
}

Layout split(const Shape& shape, int rank) {
  Layout layout;
  size_t r = static_cast<size_t>(rank);
  layout.batched = shape.size() == r + 2;
  if (layout.batched) layout.batch = shape[0];
  layout.channels = shape[shape.size() - r - 1];
  layout.spatial.assign(shape.end() - rank, shape.end());
  return layout;
}

Shape join(const Layout& layout, const Shape& spatial) {
  Shape shape;
  if (layout.batched) shape.push_back(layout.batch);
  shape.push_back(layout.channels);
  shape.insert(shape.end(), spatial.begin(), spatial.end());
  return shape;
}

static int64_t known(int64_t extent) { return extent == kDynamic ? 1 : extent; }

Geometry sliding(const Shape& input, const Window& window) {
  int rank = static_cast<int>(window.kernel.size());
  Layout layout = split(input, rank);
  Geometry g;
  g.planes = known(layout.batch) * layout.channels;
  for (int i = 0; i < rank; ++i) {
    Axis& axis = g.axes[3 - rank + i];
    axis.in = layout.spatial[i];
    axis.kernel = window.kernel[i];
    axis.stride = window.stride[i];
    axis.pad = window.padding[i];
    axis.dilation = window.dilation.empty() ? 1 : window.dilation[i];
    axis.out = output_size(axis.in, axis.kernel, axis.stride, axis.pad, axis.dilation, window.ceil_mode);
  }
  return g;
}

Geometry planes_only(const Shape& input, int rank, const Shape& out_spatial) {
  Layout layout = split(input, rank);
  Geometry g;
  g.planes = known(layout.batch) * layout.channels;
  for (int i = 0; i < rank; ++i) {
    Axis& axis = g.axes[3 - rank + i];
    axis.in = layout.spatial[i];
    axis.out = out_spatial[i];
  }
  return g;
}

std::string spatial_name(const char* base, int rank) { return fmt::format("{}{}d", base, rank); }

}  // namespace mininn::pool
