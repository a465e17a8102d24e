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

// An adaptive window along one axis: [lo, hi).
struct Span {
  int64_t lo, hi;
  float size() const { return static_cast<float>(hi - lo); }
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
      for (int64_t o = 0; o < a.out; ++o) axes[i].push_back({adaptive_start(o, a.in, a.out), adaptive_end(o, a.in, a.out)});
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

// ---------------------------------------------------------------------------
// One plane: the reference loops.

// PyTorch divides an adaptive window's sum by each extent in turn, not by its area.
void avg_plane(const Windows& windows, const float* x, float* y) {
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    float sum = 0;
    for_each_cell(windows, d, h, w, [&](int64_t i) { sum += x[i]; });
    y[o] = sum / d.size() / h.size() / w.size();
  });
}

// gx = 0, then every cell of window o gets gy[o] / extents: overlapping
// windows add up in window order.
void avg_backward_plane(const Windows& windows, const float* gy, float* gx) {
  std::fill_n(gx, windows.in_plane, 0.0f);
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    const float share = gy[o] / d.size() / h.size() / w.size();
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
  const float share = gy[0] / windows.axes[0][0].size() / windows.axes[1][0].size() / windows.axes[2][0].size();
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

void avg_lanes(const Windows& windows, const float* x, float* y) {
  Floats* in = lanes::scratch<Floats>(windows.in_plane + windows.out_plane);
  Floats* out = in + windows.in_plane;
  lanes::gather(x, windows.in_plane, windows.in_plane, in);
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    Floats sum = {};
    for_each_cell(windows, d, h, w, [&](int64_t i) { sum += in[i]; });
    out[o] = sum / d.size() / h.size() / w.size();
  });
  lanes::scatter(out, windows.out_plane, y, windows.out_plane);
}

void avg_backward_lanes(const Windows& windows, const float* gy, float* gx) {
  Floats* grad = lanes::scratch<Floats>(windows.in_plane + windows.out_plane);
  Floats* grad_out = grad + windows.in_plane;
  lanes::gather(gy, windows.out_plane, windows.out_plane, grad_out);
  std::fill_n(grad, windows.in_plane, Floats{});
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    const Floats share = grad_out[o] / d.size() / h.size() / w.size();
    for_each_cell(windows, d, h, w, [&](int64_t i) { grad[i] += share; });
  });
  lanes::scatter(grad, windows.in_plane, gx, windows.in_plane);
}

void max_lanes(const Windows& windows, const float* x, float* y, int64_t* indices) {
  Floats* in = lanes::scratch<Floats>(windows.in_plane + windows.out_plane);
  Floats* out = in + windows.in_plane;
  Ints* arg = lanes::scratch<Ints>(windows.out_plane);
  lanes::gather(x, windows.in_plane, windows.in_plane, in);
  for_each_window(windows, [&](int64_t o, const Span& d, const Span& h, const Span& w) {
    Floats best = Floats{} - std::numeric_limits<float>::infinity();
    Ints at = Ints{} + static_cast<int32_t>((d.lo * windows.in_h + h.lo) * windows.in_w + w.lo);
    for_each_cell(windows, d, h, w, [&](int64_t i) {
      const Ints take = (in[i] > best) | (in[i] != in[i]);
      best = take ? in[i] : best;
      at = take ? Ints{} + static_cast<int32_t>(i) : at;
    });
    out[o] = best;
    arg[o] = at;
  });
  lanes::scatter(out, windows.out_plane, y, windows.out_plane);
  if (indices)
    for (int64_t lane = 0; lane < kLanes; ++lane)
      for (int64_t o = 0; o < windows.out_plane; ++o) indices[lane * windows.out_plane + o] = arg[o][lane];
}

// A global average (one window per plane) needs no scratch: the plane is
// read 16 positions at a time, transposed in registers and summed in order.
void global_avg_lanes(const Windows& windows, const float* x, float* y) {
  Floats sum = {};
  for (int64_t i = 0; i < windows.in_plane; i += kLanes) {
    const int64_t count = std::min(kLanes, windows.in_plane - i);
    Floats tile[kLanes];
    lanes::gather(x + i, windows.in_plane, count, tile);
    for (int64_t k = 0; k < count; ++k) sum += tile[k];
  }
  const Floats mean = sum / windows.axes[0][0].size() / windows.axes[1][0].size() / windows.axes[2][0].size();
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
// per-thread scratch.
bool lanes_fit(const Geometry& g, const Windows& windows) {
  return cpu_has_avx512() && g.planes >= kLanes && windows.out_plane > 0 && windows.in_plane <= lanes::kMaxScratch &&
         windows.out_plane <= lanes::kMaxScratch - windows.in_plane;
}

bool global_lanes(const Geometry& g) { return cpu_has_avx512() && g.planes >= kLanes && g.out_plane() == 1; }

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

void adaptive_avg_forward(const Geometry& g, const float* x, float* y) {
  const Windows windows(g);
  const int64_t in = windows.in_plane, out = windows.out_plane;
  if (global_lanes(g)) {
    for_planes(g, true, [&](int64_t p) { global_avg_lanes(windows, x + p * in, y + p); },
               [&](int64_t p) { avg_plane(windows, x + p * in, y + p); });
    return;
  }
  for_planes(g, lanes_fit(g, windows), [&](int64_t p) { avg_lanes(windows, x + p * in, y + p * out); },
             [&](int64_t p) { avg_plane(windows, x + p * in, y + p * out); });
}

void adaptive_avg_backward(const Geometry& g, const float* gy, float* gx) {
  const Windows windows(g);
  const int64_t in = windows.in_plane, out = windows.out_plane;
  if (g.out_plane() == 1) {
    for_planes(g, false, [](int64_t) {}, [&](int64_t p) { global_avg_backward_plane(windows, gy + p, gx + p * in); });
    return;
  }
  for_planes(g, lanes_fit(g, windows), [&](int64_t p) { avg_backward_lanes(windows, gy + p * out, gx + p * in); },
             [&](int64_t p) { avg_backward_plane(windows, gy + p * out, gx + p * in); });
}

void adaptive_max_forward(const Geometry& g, const float* x, float* y, int64_t* indices) {
  const Windows windows(g);
  const int64_t in = windows.in_plane, out = windows.out_plane;
  auto indices_of = [&](int64_t p) { return indices ? indices + p * out : nullptr; };
  for_planes(g, lanes_fit(g, windows), [&](int64_t p) { max_lanes(windows, x + p * in, y + p * out, indices_of(p)); },
             [&](int64_t p) { max_plane(windows, x + p * in, y + p * out, indices_of(p)); });
}

}  // namespace mininn::pool
