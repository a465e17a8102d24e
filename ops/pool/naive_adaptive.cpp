// Adaptive pools, mininn's own kernels: the plain loops over one plane (the
// semantics: spec §5), and the same loops run on 16 planes at once
// (plane_lanes.h), which is how whole groups of 16 planes are computed.
// Every fast kernel below is its scalar loop with `float` read as "16
// planes": the same windows, the same order of additions, comparisons and
// divisions, hence the same bits.
#include "framework/parallel.h"
#include "ops/pool/naive.h"
#include "ops/pool/naive_adaptive.h"
#include "ops/pool/plane_lanes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace mininn::pool {
namespace {

using lanes::Floats;
using lanes::Ints;
using lanes::kLanes;

// An adaptive window along one axis: [lo, hi), of `size` cells.
struct Span {
  int64_t lo, hi;
  float size;
};

// The adaptive windows of a geometry, axis by axis, computed once per call.
struct Windows {
  std::array<std::vector<Span>, 3> axes;  // D, H, W
  int64_t in_h, in_w, in_plane, out_plane;

  explicit Windows(const Geometry& g)
      : in_h(g.axes[1].in), in_w(g.axes[2].in), in_plane(g.in_plane()), out_plane(g.out_plane()) {
    // With no planes (an empty batch) nothing is visited, and a plane's sizes
    // may be far too large to list their windows: then there are none.
    if (g.planes == 0) return;
    for (int i = 0; i < 3; ++i) {
      const Axis& a = g.axes[i];
      for (int64_t o = 0; o < a.out; ++o) {
        const int64_t lo = adaptive_start(o, a.in, a.out), hi = adaptive_end(o, a.in, a.out);
        axes[i].push_back({lo, hi, static_cast<float>(hi - lo)});
      }
    }
  }
};

// visit(o, d, h, w) for every window o of a plane, in row-major order.
template <typename Visit>
MININN_LANES_INLINE void for_each_window(const Windows& windows, Visit visit) {
  int64_t o = 0;
  for (const Span& d : windows.axes[0])
    for (const Span& h : windows.axes[1])
      for (const Span& w : windows.axes[2]) visit(o++, d, h, w);
}

// visit(i) for the flat in-plane index i of every cell of a window, in
// row-major order: PyTorch's order of summation and of the max scan.
template <typename Visit>
MININN_LANES_INLINE void for_each_cell(const Windows& windows, const Span& d, const Span& h, const Span& w,
                                       Visit visit) {
  for (int64_t id = d.lo; id < d.hi; ++id)
    for (int64_t ih = h.lo; ih < h.hi; ++ih) {
      const int64_t row = (id * windows.in_h + ih) * windows.in_w;
      for (int64_t iw = w.lo; iw < w.hi; ++iw) visit(row + iw);
    }
}

// visit(row) with the flat index of cell (id, ih, 0) for every row of a
// window, in order.
template <typename Visit>
MININN_LANES_INLINE void for_each_row(const Windows& windows, const Span& d, const Span& h, Visit visit) {
  for (int64_t id = d.lo; id < d.hi; ++id)
    for (int64_t ih = h.lo; ih < h.hi; ++ih) visit((id * windows.in_h + ih) * windows.in_w);
}

// ---------------------------------------------------------------------------
// One plane: the reference loops.

// PyTorch divides an adaptive window's sum by each extent in turn, not by its area.
void avg_plane(const Windows& windows, const float* x, float* y) {
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    float sum = 0;
    for_each_cell(windows, d, h, w, [&](int64_t i) { sum += x[i]; });
    y[o] = sum / d.size / h.size / w.size;
  });
}

// gx = 0, then every cell of window o gets gy[o] / extents: overlapping
// windows add up in window order.
void avg_backward_plane(const Windows& windows, const float* gy, float* gx) {
  std::fill_n(gx, windows.in_plane, 0.0f);
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    const float share = gy[o] / d.size / h.size / w.size;
    for_each_cell(windows, d, h, w, [&](int64_t i) { gx[i] += share; });
  });
}

// PyTorch's scan: row-major, strict '>', a NaN always wins (so the last
// NaN's index stays); the index starts at the window's first cell.
void max_plane(const Windows& windows, const float* x, float* y, int64_t* indices) {
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    float best = -std::numeric_limits<float>::infinity();
    int64_t arg = (d.lo * windows.in_h + h.lo) * windows.in_w + w.lo;
    for_each_cell(windows, d, h, w, [&](int64_t i) {
      if (x[i] > best || std::isnan(x[i])) {
        best = x[i];
        arg = i;
      }
    });
    y[o] = best;
    if (indices) indices[o] = arg;
  });
}

// The backward of a global average: every cell gets 0 + share, what the
// reference's zeroing and one addition give (+0 for a -0 share too).
void global_avg_backward_plane(const Windows& windows, const float* gy, float* gx) {
  const float share = gy[0] / windows.axes[0][0].size / windows.axes[1][0].size / windows.axes[2][0].size;
  std::fill_n(gx, windows.in_plane, 0.0f + share);
}

}  // namespace
}  // namespace mininn::pool

// ---------------------------------------------------------------------------
// Sixteen planes: the same loops, one plane per lane (AVX-512 code, see
// plane_lanes.h). x and y point at the group's first plane.

MININN_AVX512_BEGIN
namespace mininn::pool {
namespace {

// value / d / h / w, the reference's divisions in its order, without those
// by 1 (a 2-d pool's depth, a 1-d pool's depth and height): dividing by 1
// returns its operand unchanged unless that is a signalling NaN, which no
// sum is (0 + sNaN is a quiet NaN), and a share's NaN is quieted when it is
// added to the gradient.
MININN_LANES_INLINE Floats divide_by_sizes(Floats value, const Span& d, const Span& h, const Span& w) {
  for (const Span* axis : {&d, &h, &w})
    if (axis->size != 1.0f) value /= axis->size;
  return value;
}

void avg_lanes(const Windows& windows, const float* x, float* y) {
  Floats* in = lanes::scratch<Floats>(windows.in_plane + windows.out_plane);
  Floats* out = in + windows.in_plane;
  lanes::gather(x, windows.in_plane, windows.in_plane, in);
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    Floats sum = {};
    for_each_cell(windows, d, h, w, [&](int64_t i) { sum += in[i]; });
    out[o] = divide_by_sizes(sum, d, h, w);
  });
  lanes::scatter(out, windows.out_plane, y, windows.out_plane);
}

void avg_backward_lanes(const Windows& windows, const float* gy, float* gx) {
  Floats* grad = lanes::scratch<Floats>(windows.in_plane + windows.out_plane);
  Floats* grad_out = grad + windows.in_plane;
  lanes::gather(gy, windows.out_plane, windows.out_plane, grad_out);
  std::fill_n(grad, windows.in_plane, Floats{});
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    const Floats share = divide_by_sizes(grad_out[o], d, h, w);
    for_each_cell(windows, d, h, w, [&](int64_t i) { grad[i] += share; });
  });
  lanes::scatter(grad, windows.in_plane, gx, windows.in_plane);
}

// An in-plane index in every lane (planes hold at most kMaxScratch cells here).
MININN_LANES_INLINE Ints index(int64_t i) { return Ints{} + static_cast<int32_t>(i); }

// One step of PyTorch's max scan: a value replaces the best so far when it
// is larger or a NaN (so the first maximum and the last NaN stay).
MININN_LANES_INLINE void scan_step(Floats& best, Ints& at, Floats value, Ints position) {
  const Ints take = (value > best) | (value != value);
  best = take ? value : best;
  at = take ? position : at;
}

// The max scan continued over cells [first, last) of one row. The scan is
// a fold of "a later piece replaces the result so far when it is larger or
// a NaN" over the cells in order, and contiguous cells fold the same way
// whatever the bracketing: a piece's own scan keeps its first maximum or
// its last NaN, and the step keeps the whole's (spec §5). So four cells are
// folded pairwise apart from the running result first, which then takes one
// dependent step per four cells instead of four.
MININN_LANES_INLINE void scan_row(const Floats* in, int64_t first, int64_t last, Floats& best, Ints& at) {
  int64_t i = first;
  for (; i + 4 <= last; i += 4) {
    Floats best01 = in[i], best23 = in[i + 2];
    Ints at01 = index(i), at23 = index(i + 2);
    scan_step(best01, at01, in[i + 1], index(i + 1));
    scan_step(best23, at23, in[i + 3], index(i + 3));
    scan_step(best01, at01, best23, at23);
    scan_step(best, at, best01, at01);
  }
  for (; i < last; ++i) scan_step(best, at, in[i], index(i));
}

void max_lanes(const Windows& windows, const float* x, float* y, int64_t* indices) {
  Floats* in = lanes::scratch<Floats>(windows.in_plane + windows.out_plane);
  Floats* out = in + windows.in_plane;
  Ints* arg = lanes::scratch<Ints>(windows.out_plane);
  lanes::gather(x, windows.in_plane, windows.in_plane, in);
  const Floats minus_inf = Floats{} - std::numeric_limits<float>::infinity();
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    Floats best = minus_inf;
    Ints at = index((d.lo * windows.in_h + h.lo) * windows.in_w + w.lo);
    for_each_row(windows, d, h, [&](int64_t row) { scan_row(in, row + w.lo, row + w.hi, best, at); });
    out[o] = best;
    arg[o] = at;
  });
  lanes::scatter(out, windows.out_plane, y, windows.out_plane);
  if (indices) lanes::scatter_indices(arg, windows.out_plane, indices, windows.out_plane);
}

// A global average (one window per plane) needs no scratch: the plane is
// read 16 positions at a time, transposed in registers and summed in order.
void global_avg_lanes(const Windows& windows, const float* x, float* y) {
  const int64_t in_plane = windows.in_plane;
  Floats sum = {};
  int64_t i = 0;
  Floats tile[kLanes];
  for (; i + kLanes <= in_plane; i += kLanes) {
    lanes::load_tile(x + i, in_plane, kLanes, tile);
    for (const Floats& column : tile) sum += column;
  }
  if (i < in_plane) {
    lanes::load_tile(x + i, in_plane, in_plane - i, tile);
    for (int64_t k = 0; k < in_plane - i; ++k) sum += tile[k];
  }
  const Floats mean = divide_by_sizes(sum, windows.axes[0][0], windows.axes[1][0], windows.axes[2][0]);
  std::memcpy(y, &mean, sizeof mean);  // one output per plane: the group's 16 are adjacent
}

}  // namespace
}  // namespace mininn::pool
MININN_AVX512_END

// ---------------------------------------------------------------------------
// Which planes run on lanes.

namespace mininn::pool {
namespace {

// Whether groups of 16 planes run on lanes: the CPU has AVX-512, there are
// 16 planes, something to compute, and a plane (in and out) fits the
// per-thread scratch. (Products saturate: an empty batch may have planes of
// any size.)
bool lanes_fit(const Geometry& g) {
  return cpu_has_avx512() && g.planes >= kLanes && g.out_plane() > 0 && g.in_plane() <= lanes::kMaxScratch &&
         g.out_plane() <= lanes::kMaxScratch - g.in_plane();
}

// A global average needs no scratch, and its backward is a fill.
bool is_global(const Geometry& g) { return g.out_plane() == 1; }

// group(p) for each group of 16 planes from plane p on (when `grouped`),
// plane(p) for every plane left over; on threads when the work pays.
template <typename Group, typename Plane>
void for_planes(const Geometry& g, bool grouped, Group group, Plane plane) {
  const int64_t groups = grouped ? g.planes / kLanes : 0, rest = g.planes - groups * kLanes;
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t unit = 0; unit < groups + rest; ++unit) {
    if (unit < groups)
      group(unit * kLanes);
    else
      plane(groups * kLanes + unit - groups);
  }
}

}  // namespace

namespace scalar {

void adaptive_avg_forward(const Geometry& g, const float* x, float* y) {
  const Windows windows(g);
  for_planes(g, false, [](int64_t) {},
             [&](int64_t p) { avg_plane(windows, x + p * windows.in_plane, y + p * windows.out_plane); });
}

void adaptive_avg_backward(const Geometry& g, const float* gy, float* gx) {
  const Windows windows(g);
  for_planes(g, false, [](int64_t) {},
             [&](int64_t p) { avg_backward_plane(windows, gy + p * windows.out_plane, gx + p * windows.in_plane); });
}

void adaptive_max_forward(const Geometry& g, const float* x, float* y, int64_t* indices) {
  const Windows windows(g);
  for_planes(g, false, [](int64_t) {}, [&](int64_t p) {
    max_plane(windows, x + p * windows.in_plane, y + p * windows.out_plane,
              indices ? indices + p * windows.out_plane : nullptr);
  });
}

}  // namespace scalar

bool adaptive_avg_on_lanes(const Geometry& g) {
  return cpu_has_avx512() && g.planes >= kLanes && (is_global(g) || lanes_fit(g));
}
bool adaptive_max_on_lanes(const Geometry& g) { return lanes_fit(g); }

void adaptive_avg_forward(const Geometry& g, const float* x, float* y) {
  const Windows windows(g);
  const int64_t in = windows.in_plane, out = windows.out_plane;
  if (is_global(g) && adaptive_avg_on_lanes(g)) {
    for_planes(g, true, [&](int64_t p) { global_avg_lanes(windows, x + p * in, y + p); },
               [&](int64_t p) { avg_plane(windows, x + p * in, y + p); });
    return;
  }
  for_planes(g, lanes_fit(g), [&](int64_t p) { avg_lanes(windows, x + p * in, y + p * out); },
             [&](int64_t p) { avg_plane(windows, x + p * in, y + p * out); });
}

void adaptive_avg_backward(const Geometry& g, const float* gy, float* gx) {
  const Windows windows(g);
  const int64_t in = windows.in_plane, out = windows.out_plane;
  if (is_global(g)) {
    for_planes(g, false, [](int64_t) {}, [&](int64_t p) { global_avg_backward_plane(windows, gy + p, gx + p * in); });
    return;
  }
  for_planes(g, lanes_fit(g), [&](int64_t p) { avg_backward_lanes(windows, gy + p * out, gx + p * in); },
             [&](int64_t p) { avg_backward_plane(windows, gy + p * out, gx + p * in); });
}

void adaptive_max_forward(const Geometry& g, const float* x, float* y, int64_t* indices) {
  const Windows windows(g);
  const int64_t in = windows.in_plane, out = windows.out_plane;
  auto indices_of = [&](int64_t p) { return indices ? indices + p * out : nullptr; };
  for_planes(g, lanes_fit(g), [&](int64_t p) { max_lanes(windows, x + p * in, y + p * out, indices_of(p)); },
             [&](int64_t p) { max_plane(windows, x + p * in, y + p * out, indices_of(p)); });
}

}  // namespace mininn::pool
