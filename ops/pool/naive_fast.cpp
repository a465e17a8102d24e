// Fast paths of the naive sliding-window kernels.
//
// The reference loops (naive.cpp) visit one window at a time: scalar code,
// with threads only across planes. Here:
//   * one output row (plane, od, oh) at a time, and each tap of the window is
//     one pass over the row's outputs: a loop the compiler vectorises across
//     output positions (strides 1 and 2 specialised, so a tap's loads are
//     contiguous or one deinterleave, never a gather), built for AVX-512,
//     AVX2 and SSE2 (MININN_MULTIVERSIONED);
//   * threads split output rows, not planes, so one image with two channels
//     keeps two cores busy;
//   * the few windows of a row that reach into the padding along W take a
//     scalar path, so the vector passes need no bounds checks.
//
// Why the results are bit-identical to the reference: only the loop over
// outputs moved inside the loop over taps. Each output still meets its own
// taps in PyTorch's row-major order (D, then H, then W), starting from the
// same initial state (max: -inf and the first in-bounds tap; average: 0), and
// goes through the same float operations in the same order: the max update
// "larger or NaN takes over" (so the first maximum and the last NaN keep
// their index, an all -inf window keeps its first tap), and the sum's
// additions. Nothing is reassociated, so there is nothing to round
// differently. tests/unit/test_pool_fast.cpp checks it over random
// geometries, ties, NaN and -inf.
#include "ops/pool/naive_fast.h"

#include "framework/multiversion.h"
#include "framework/parallel.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace mininn::pool::fast {
namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// Outputs per vector pass: a pass's running maxima (the output row itself)
// and their taps stay in L1 while every tap of the window goes over them.
constexpr int64_t kChunk = 512;

// The outputs [lo, hi) along an axis whose every tap lies inside the input.
struct Interior {
  int64_t lo = 0, hi = 0;
};

Interior interior(const Axis& a) {
  // start(o) >= 0, and the last tap start(o) + (kernel-1)*dilation <= in-1.
  const int64_t room = a.in - 1 - (a.kernel - 1) * a.dilation + a.pad;  // largest o*stride allowed
  Interior r;
  r.hi = room < 0 ? 0 : std::min(a.out, room / a.stride + 1);
  r.lo = std::min(r.hi, (a.pad + a.stride - 1) / a.stride);
  return r;
}

// What every row of one call shares.
struct Rows {
  const Geometry& g;
  Interior w;  // along W
  int64_t stride() const { return g.axes[2].stride; }
  // Offset of tap (jd, jh, jw) from its window's origin, in the input plane.
  int64_t tap_offset(int64_t jd, int64_t jh, int64_t jw) const {
    const Axis &ad = g.axes[0], &ah = g.axes[1], &aw = g.axes[2];
    return (jd * ad.dilation * ah.in + jh * ah.dilation) * aw.in + jw * aw.dilation;
  }
  // Flat input offset of output (od, oh, 0)'s window origin (its tap (0, 0,
  // 0), which may lie in the padding, even before the plane's start).
  int64_t origin(int64_t od, int64_t oh) const {
    const Axis &ad = g.axes[0], &ah = g.axes[1], &aw = g.axes[2];
    return (ad.start(od) * ah.in + ah.start(oh)) * aw.in - aw.pad;
  }
};

// Splits the rows of all planes between the threads. `row(p, od, oh)` runs
// one output row.
template <typename Row>
void for_each_row(const Geometry& g, Row row) {
  const int64_t out_d = g.axes[0].out, out_h = g.axes[1].out;
  const int64_t rows = g.planes * out_d * out_h;
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t r = 0; r < rows; ++r) row(r / (out_d * out_h), r / out_h % out_d, r % out_h);
}

// ---------------------------------------------------------------------------
// Max

// One tap of n consecutive outputs: src[i * stride] is output i's value at
// the tap, `offset` the tap's place from the window origin. PyTorch's rule:
// a larger value or any NaN takes over.
template <int Stride, bool Indexed>
[[gnu::always_inline]] inline void max_tap(const float* __restrict src, int64_t stride, int64_t n, int32_t offset,
                                           float* __restrict best, int32_t* __restrict tap) {
  const int64_t step = Stride ? Stride : stride;
  for (int64_t i = 0; i < n; ++i) {
    const float v = src[i * step];
    const bool takes = v > best[i] || v != v;
    best[i] = takes ? v : best[i];
    if constexpr (Indexed) tap[i] = takes ? offset : tap[i];
  }
}

template <int Stride, bool Indexed>
MININN_MULTIVERSIONED void max_row(const Rows& rows, const float* plane, int64_t od, int64_t oh, float* y,
                                   int64_t* indices) {
  const Axis &ad = rows.g.axes[0], &ah = rows.g.axes[1], &aw = rows.g.axes[2];
  const Taps td = taps(ad, od), th = taps(ah, oh);
  const int64_t stride = Stride ? Stride : rows.stride(), origin = rows.origin(od, oh);

  // Windows cut by the padding along W: one at a time, as the reference.
  auto one_window = [&](int64_t ow) {
    const Taps tw = taps(aw, ow);
    const int64_t at = origin + ow * stride;
    float best = kMinusInf;
    int64_t arg = at + rows.tap_offset(td.first, th.first, tw.first);
    for (int64_t jd = td.first; jd < td.last; ++jd)
      for (int64_t jh = th.first; jh < th.last; ++jh)
        for (int64_t jw = tw.first; jw < tw.last; ++jw) {
          const int64_t i = at + rows.tap_offset(jd, jh, jw);
          const float v = plane[i];
          if (v > best || std::isnan(v)) {
            best = v;
            arg = i;
          }
        }
    y[ow] = best;
    if constexpr (Indexed) indices[ow] = arg;
  };
  for (int64_t ow = 0; ow < rows.w.lo; ++ow) one_window(ow);
  for (int64_t ow = rows.w.hi; ow < aw.out; ++ow) one_window(ow);

  // The rest in chunks, one pass per tap; the output row holds the running
  // maxima, `tap` their offsets (int32: the caller checked the plane size).
  int32_t tap[kChunk];
  const auto first = static_cast<int32_t>(rows.tap_offset(td.first, th.first, 0));
  for (int64_t c = rows.w.lo; c < rows.w.hi; c += kChunk) {
    const int64_t n = std::min(kChunk, rows.w.hi - c);
    float* best = y + c;
    std::fill(best, best + n, kMinusInf);
    if constexpr (Indexed) std::fill(tap, tap + n, first);
    const int64_t at = origin + c * stride;
    for (int64_t jd = td.first; jd < td.last; ++jd)
      for (int64_t jh = th.first; jh < th.last; ++jh)
        for (int64_t jw = 0; jw < aw.kernel; ++jw) {
          const int64_t offset = rows.tap_offset(jd, jh, jw);
          max_tap<Stride, Indexed>(plane + (at + offset), stride, n, static_cast<int32_t>(offset), best, tap);
        }
    if constexpr (Indexed)
      for (int64_t i = 0; i < n; ++i) indices[c + i] = at + i * stride + tap[i];
  }
}

template <bool Indexed>
using MaxRow = void (*)(const Rows&, const float*, int64_t, int64_t, float*, int64_t*);

template <bool Indexed>
MaxRow<Indexed> pick_max_row(int64_t stride) {
  if (stride == 1) return max_row<1, Indexed>;
  if (stride == 2) return max_row<2, Indexed>;
  return max_row<0, Indexed>;
}

// ---------------------------------------------------------------------------
// Average

// Adds one tap to n consecutive sums: src[i * stride] is output i's value.
template <int Stride>
[[gnu::always_inline]] inline void add_tap(const float* __restrict src, int64_t stride, int64_t n,
                                           float* __restrict sum) {
  const int64_t step = Stride ? Stride : stride;
  for (int64_t i = 0; i < n; ++i) sum[i] += src[i * step];
}

template <int Stride>
MININN_MULTIVERSIONED void avg_row(const Rows& rows, const AvgOptions& options, const float* plane, int64_t od,
                                   int64_t oh, float* y) {
  const Axis &ad = rows.g.axes[0], &ah = rows.g.axes[1], &aw = rows.g.axes[2];
  const AvgSpan d = avg_span(ad, od), h = avg_span(ah, oh);
  const int64_t stride = Stride ? Stride : rows.stride();
  auto row_of = [&](int64_t id, int64_t ih) { return plane + (id * ah.in + ih) * aw.in; };

  auto one_window = [&](int64_t ow) {
    const AvgSpan w = avg_span(aw, ow);
    float sum = 0;
    for (int64_t id = d.lo; id < d.hi; ++id)
      for (int64_t ih = h.lo; ih < h.hi; ++ih)
        for (int64_t iw = w.lo; iw < w.hi; ++iw) sum += row_of(id, ih)[iw];
    y[ow] = sum / divisor(options, d, h, w);
  };
  for (int64_t ow = 0; ow < rows.w.lo; ++ow) one_window(ow);
  for (int64_t ow = rows.w.hi; ow < aw.out; ++ow) one_window(ow);

  // Inside, every window spans the whole kernel along W: one divisor.
  const float div = divisor(options, d, h, AvgSpan{0, aw.kernel, aw.kernel});
  for (int64_t c = rows.w.lo; c < rows.w.hi; c += kChunk) {
    const int64_t n = std::min(kChunk, rows.w.hi - c);
    float* sum = y + c;
    std::fill(sum, sum + n, 0.0f);
    for (int64_t id = d.lo; id < d.hi; ++id)
      for (int64_t ih = h.lo; ih < h.hi; ++ih)
        for (int64_t jw = 0; jw < aw.kernel; ++jw)
          add_tap<Stride>(row_of(id, ih) + (c * stride - aw.pad + jw), stride, n, sum);
    for (int64_t i = 0; i < n; ++i) sum[i] /= div;
  }
}

using AvgRow = void (*)(const Rows&, const AvgOptions&, const float*, int64_t, int64_t, float*);

AvgRow pick_avg_row(int64_t stride) {
  if (stride == 1) return avg_row<1>;
  if (stride == 2) return avg_row<2>;
  return avg_row<0>;
}

// The fast paths pay off when a row has outputs whose windows lie wholly
// inside the input along W; with none (tiny or heavily padded planes) they
// would only repeat the reference loop.
bool covered(const Geometry& g, const Interior& w) {
  return w.hi > w.lo && g.in_plane() <= std::numeric_limits<int32_t>::max();
}

}  // namespace

bool max_forward(const Geometry& g, const float* x, float* y, int64_t* indices) {
  if (g.planes == 0) return true;
  const Rows rows{g, interior(g.axes[2])};
  if (!covered(g, rows.w)) return false;
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane(), out_w = g.axes[2].out, out_h = g.axes[1].out;
  auto run = [&](auto row) {
    for_each_row(g, [&](int64_t p, int64_t od, int64_t oh) {
      const int64_t o = p * out_plane + (od * out_h + oh) * out_w;
      row(rows, x + p * in_plane, od, oh, y + o, indices ? indices + o : nullptr);
    });
  };
  if (indices)
    run(pick_max_row<true>(g.axes[2].stride));
  else
    run(pick_max_row<false>(g.axes[2].stride));
  return true;
}

bool avg_forward(const Geometry& g, const AvgOptions& options, const float* x, float* y) {
  if (g.planes == 0) return true;
  const Rows rows{g, interior(g.axes[2])};
  if (!covered(g, rows.w)) return false;
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane(), out_w = g.axes[2].out, out_h = g.axes[1].out;
  const AvgRow row = pick_avg_row(g.axes[2].stride);
  for_each_row(g, [&](int64_t p, int64_t od, int64_t oh) {
    row(rows, options, x + p * in_plane, od, oh, y + p * out_plane + (od * out_h + oh) * out_w);
  });
  return true;
}

// The reference splits planes between threads; with fewer planes than
// threads, each plane is split into bands of cells. A band's thread zeroes
// the band, then goes through all the plane's outputs in order and adds the
// gradients whose index falls inside the band: every cell receives its
// additions in the same order as in the reference, and no two threads write
// one cell. (The indices say it all: adaptive and fractional pools use this
// too, so no window geometry is assumed.)
bool max_backward(const Geometry& g, const float* gy, const int64_t* indices, float* gx) {
  const int threads = parallel_worth(g.work()) ? omp_get_max_threads() : 1;
  if (g.planes == 0 || threads < 2 || g.planes >= threads) return false;
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
  const int64_t bands = (threads + g.planes - 1) / g.planes;
#pragma omp parallel for schedule(static)
  for (int64_t u = 0; u < g.planes * bands; ++u) {
    const int64_t p = u / bands, band = u % bands;
    const int64_t lo = in_plane * band / bands, hi = in_plane * (band + 1) / bands;
    float* gp = gx + p * in_plane;
    std::memset(gp + lo, 0, sizeof(float) * (hi - lo));
    const float* gyp = gy + p * out_plane;
    const int64_t* ip = indices + p * out_plane;
    for (int64_t o = 0; o < out_plane; ++o)
      if (ip[o] >= lo && ip[o] < hi) gp[ip[o]] += gyp[o];
  }
  return true;
}

}  // namespace mininn::pool::fast
