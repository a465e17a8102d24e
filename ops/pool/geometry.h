// All pooling window arithmetic, in one place: output sizes with PyTorch's
// ceil rule, padding and dilation, average divisors, adaptive bounds and the
// unpool default size. Shape inference, every naive kernel, the oneDNN
// mapping and every backward use these functions and nothing else.
//
// Every pool works on a canonical 3-d plane (D, H, W): a 1-d or 2-d pool is
// the same computation with leading axes of size 1 (kernel 1, stride 1, no
// padding), which is why one implementation serves all ranks and why an
// index is always the flat offset (d*H + h)*W + w within its plane.
#pragma once

#include "framework/shape.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mininn::pool {

// Output length of a sliding window along one axis (PyTorch's
// pooling_output_shape): floor or ceil division, and under ceil_mode the
// last window is dropped when it would start in the right padding.
int64_t output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode);

// Adaptive pooling window i of `out` over `in`: [start, end), overlapping
// when out does not divide in.
inline int64_t adaptive_start(int64_t i, int64_t in, int64_t out) { return (i / out) * in + ((i % out) * in) / out; }
inline int64_t adaptive_end(int64_t i, int64_t in, int64_t out) { return 1 + ((i + 1) * in - 1) / out; }

// FractionalMaxPool window i of `out` along an axis of length `in`: it covers
// [start, start + kernel). PyTorch's interval sequence, computed in float32
// as PyTorch computes it for float input, so windows match bit for bit:
//   alpha = (in - kernel) / (out - 1);  start = int((i + u) * alpha) - int(u * alpha)
// and the last window ends flush with the input. Any sample u in [0, 1]
// keeps every window inside the input when out + kernel - 1 <= in.
int64_t fractional_start(int64_t i, float sample, int64_t in, int64_t out, int64_t kernel);

// MaxUnpool's output size when none is given: (in-1)*stride + kernel - 2*pad.
int64_t unpool_default_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad);

// One axis of a sliding-window pool, with its output size resolved.
struct Axis {
  int64_t in = 1, out = 1, kernel = 1, stride = 1, pad = 0, dilation = 1;

  int64_t start(int64_t o) const { return o * stride - pad; }  // first tap, unpadded coords
  // Extra right padding that makes floor-mode arithmetic produce `out`
  // (oneDNN has no ceil_mode): pad_r >= pad, covering the last window.
  int64_t right_pad() const;
};

// The sliding-window parameters of a pool, one entry per spatial dimension
// (already expanded from an int to a list).
struct Window {
  std::vector<int64_t> kernel, stride, padding, dilation;
  bool ceil_mode = false;
};

// A pool over canonical (D, H, W) planes.
struct Geometry {
  int64_t planes = 0;          // N*C
  std::array<Axis, 3> axes{};  // D, H, W; unused leading axes are size 1

  // Products saturate at INT64_MAX: with zero planes (an empty batch) the
  // sizes of one plane may be as large as PyTorch allows, far beyond what a
  // product can hold, and nothing is indexed with them.
  int64_t in_plane() const { return product(axes[0].in, axes[1].in, axes[2].in); }
  int64_t out_plane() const { return product(axes[0].out, axes[1].out, axes[2].out); }
  int64_t kernel_volume() const { return product(axes[0].kernel, axes[1].kernel, axes[2].kernel); }
  // Element reads a pass makes, roughly: what decides whether threads pay.
  int64_t work() const {
    int64_t windows = product(out_plane(), kernel_volume(), 1);
    return product(planes, windows > in_plane() ? windows : in_plane(), 1);
  }

 private:
  static int64_t product(int64_t a, int64_t b, int64_t c) {
    int64_t ab = 0, abc = 0;
    if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc)) return INT64_MAX;
    return abc;
  }
};

// Splits an (N, C, *spatial) or (C, *spatial) shape of spatial rank `rank`.
struct Layout {
  bool batched = true;
  int64_t batch = 1, channels = 1;
  Shape spatial;
};
Layout split(const Shape& shape, int rank);
Shape join(const Layout& layout, const Shape& spatial);  // same batch/channels, new spatial

// A Geometry for a sliding window pool of `input` (already validated).
Geometry sliding(const Shape& input, const Window& window);
// A Geometry over given input/output spatial sizes (adaptive, unpool,
// fractional): axes carry only in/out.
Geometry planes_only(const Shape& input_spatial_and_batch, int rank, const Shape& out_spatial);

// The taps j (0 <= j < kernel) of window o whose position start(o) + j*dilation
// lies inside the input: [first, last). Empty when the window lies wholly
// in padding, which only dilated windows can do.
struct Taps {
  int64_t first, last;
};
inline Taps taps(const Axis& axis, int64_t o) {
  const int64_t start = axis.start(o);
  const int64_t first = start < 0 ? (-start + axis.dilation - 1) / axis.dilation : 0;
  const int64_t reach = axis.in - start;  // taps must satisfy j*dilation < reach
  int64_t last = reach <= 0 ? 0 : (reach + axis.dilation - 1) / axis.dilation;
  if (last > axis.kernel) last = axis.kernel;
  if (last < first) last = first;
  return {first, last};
}

// Average window o along one axis: the real cells [lo, hi), and the cells
// count_include_pad counts — padding included, the ceil overhang past the
// right padding never.
struct AvgSpan {
  int64_t lo, hi, padded;
};
inline AvgSpan avg_span(const Axis& axis, int64_t o) {
  const int64_t start = axis.start(o);
  const int64_t end = std::min(start + axis.kernel, axis.in + axis.pad);
  return {std::max<int64_t>(start, 0), std::min(end, axis.in), end - start};
}

// "pool" names in messages: "max_pool2d", "avg_pool3d", ...
std::string spatial_name(const char* base, int rank);

}  // namespace mininn::pool
