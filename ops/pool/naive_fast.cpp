// Fast paths of the naive sliding-window kernels.
//
// The reference loops (naive.cpp) visit one window at a time: scalar code,
// with threads only across planes. Here:
//   * one output row (plane, od, oh) at a time, in blocks of 16, 8 or 4
//     outputs: each tap of the window is one step over the block's outputs,
//     a loop of constant length the compiler turns into whole vectors
//     (strides 1 and 2 specialised, so a tap's loads are contiguous or one
//     deinterleave, never a gather), built for AVX-512, AVX2 and SSE2
//     (MININN_MULTIVERSIONED). A row's last outputs are a block shifted back
//     over the previous one: those outputs are computed again from scratch,
//     to the same bits, instead of by a scalar remainder loop;
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

#include "framework/simd.h"
#include "framework/parallel.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace mininn::pool::fast {
namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// The outputs [lo, hi) along an axis whose every tap lies inside the input.
struct Interior {
  int64_t lo = 0, hi = 0;
};

Interior interior(const Axis& a) {
  // start(o) >= 0, and the last tap start(o) + (kernel-1)*dilation <= in-1
  // (no term can overflow: geometry.cpp bounds spans and padded sizes by
  // 2^62; the stride may be as large as int64 allows).
  const int64_t room = a.in - 1 - (a.kernel - 1) * a.dilation + a.pad;  // largest o*stride allowed
  Interior r;
  r.hi = room < 0 ? 0 : std::min(a.out, room / a.stride + 1);
  r.lo = std::min(r.hi, a.pad == 0 ? 0 : (a.pad - 1) / a.stride + 1);
  return r;
}

// What every row of one call shares.
struct Rows {
  const Geometry& g;
  Interior w;        // along W
  const float* x;    // the input
  const float* end;  // one past its last element
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

// Output row r of all planes' rows as (plane p, od, oh); next() moves to
// row r + 1 without dividing.
struct RowCursor {
  int64_t p, od, oh, out_d, out_h;
  RowCursor(const Geometry& g, int64_t r)
      : p(r / (g.axes[0].out * g.axes[1].out)),
        od(r / g.axes[1].out % g.axes[0].out),
        oh(r % g.axes[1].out),
        out_d(g.axes[0].out),
        out_h(g.axes[1].out) {}
  void next() {
    if (++oh < out_h) return;
    oh = 0;
    if (++od < out_d) return;
    od = 0;
    ++p;
  }
};

// Splits all planes' output rows into one range per thread (so one image
// with two channels still keeps two cores busy) and runs
// `range(first, last)` on each.
template <typename Range>
void split_rows(const Geometry& g, Range range) {
  const int64_t rows = g.planes * g.axes[0].out * g.axes[1].out;
#pragma omp parallel if (parallel_worth(g.work()))
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    range(rows * t / threads, rows * (t + 1) / threads);
  }
}

// Runs kernel.block<B>(c), the outputs [c, c + B) of a row, over the
// outputs [lo, hi): blocks of 16 (8 or 4 in shorter rows), and the last
// outputs in one block ending at hi, overlapping the one before (half as
// wide when that covers them). Each block costs a setup, so few wide blocks
// beat an exact fit of narrow ones.
//
// Everything called from a MININN_MULTIVERSIONED function is inlined into
// it (always_inline): only then is it compiled for that function's ISA.
template <int64_t B, typename Kernel>
[[gnu::always_inline]] inline void blocks_of(const Kernel& kernel, int64_t lo, int64_t hi) {
  int64_t c = lo;
  for (; c + B <= hi; c += B) kernel.template block<B>(c);
  if (c == hi) return;
  if constexpr (B > 4) {
    if (hi - c <= B / 2) {
      kernel.template block<B / 2>(hi - B / 2);
      return;
    }
  }
  kernel.template block<B>(hi - B);
}

template <typename Kernel>
[[gnu::always_inline]] inline void in_blocks(const Kernel& kernel, int64_t lo, int64_t hi) {
  const int64_t n = hi - lo;
  if (n >= 16)
    blocks_of<16>(kernel, lo, hi);
  else if (n >= 8)
    blocks_of<8>(kernel, lo, hi);
  else if (n >= 4)
    blocks_of<4>(kernel, lo, hi);
  else
    for (int64_t c = lo; c < hi; ++c) kernel.template block<1>(c);
}

// One tap of a max window, by PyTorch's rule: a larger value or any NaN
// takes over. Branch-free, so a block of them vectorises.
[[gnu::always_inline]] inline void take_max(float v, int32_t offset, float& best, int32_t& tap) {
  const bool takes = v > best || v != v;
  best = takes ? v : best;
  tap = takes ? offset : tap;
}

// Where a block reads the values src[i * Stride], i < B, of its outputs at
// one tap. With stride 2 that is a local copy of src[0, 2B): from it, the
// vectoriser loads whole vectors and deinterleaves them. Straight from src
// it would peel the last elements off into a scalar loop, lest its vector
// loads read src[2B-1], which the block does not use and which may lie past
// the input's end. The caller makes sure it does not (copies_past_end).
template <int Stride, int64_t B>
struct Lanes {
  float copy[Stride == 2 ? 2 * B : 1];
  [[gnu::always_inline]] const float* of(const float* src) {
    if constexpr (Stride != 2) {
      return src;
    } else {
      std::memcpy(copy, src, sizeof copy);
      return copy;
    }
  }
};

// ---------------------------------------------------------------------------
// Max

// One output row (plane, od, oh) of a max pool. Width: the window's width
// along W when it is 2 or 3 taps without dilation (0: any other), so a
// block takes a row's taps in one step (see block()).
template <int Stride, int Width, bool Indexed>
struct MaxRow {
  const Rows& rows;
  const float* plane;
  float* y;
  int64_t* indices;
  Taps td, th;     // the window's taps inside the input along D and H
  int64_t origin;  // the flat offset of output 0's window origin

  // Along W; a constant when specialised, so the vectoriser knows it.
  int64_t stride() const { return Stride ? Stride : rows.stride(); }

  // Stride 2, 3 wide: taps 0 and 1 are whole pairs of the row; tap 2 reads
  // the pairs one element on, through a copy (Lanes). Together in one loop,
  // the three interleaved taps would defeat the vectoriser.
  static constexpr bool kThirdTapCopied = Stride == 2 && Width == 3;

  // A window cut by the padding along W: alone, as the reference does it.
  [[gnu::always_inline]] void window(int64_t ow) const {
    const Taps tw = taps(rows.g.axes[2], ow);
    const int64_t at = origin + ow * stride();
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
  }

  // Stride 2: whether the blocks' copies (Lanes) would read past the input's
  // end, which is one element after the last tap of the row's last output.
  bool copies_past_end() const {
    if constexpr (Stride != 2 || (Width && !kThirdTapCopied)) return false;
    const Axis& aw = rows.g.axes[2];
    const int64_t last = origin + (rows.w.hi - 1) * stride() + rows.tap_offset(td.last - 1, th.last - 1, aw.kernel - 1);
    return rows.end - plane <= last + 1;
  }

  // Outputs [c, c + B), whose windows lie inside the input along W: the
  // running maximum and its tap (the offset from the window origin; int32,
  // the caller checked the plane size) of each, one tap after the other.
  // With a Width, the W taps of one input row are one step: an unrolled loop
  // inside the vector loop, whose loads then cover whole pairs (stride 2,
  // width 2) or overlapping runs (stride 1), never one element with a gap.
  template <int64_t B>
  [[gnu::always_inline]] void block(int64_t c) const {
    float best[B];
    int32_t tap[B];
    const auto first = static_cast<int32_t>(rows.tap_offset(td.first, th.first, 0));
    for (int64_t i = 0; i < B; ++i) {
      best[i] = kMinusInf;
      tap[i] = first;
    }
    const int64_t at = origin + c * stride();
    Lanes<Width && !kThirdTapCopied ? 1 : Stride, B> lanes;
    for (int64_t jd = td.first; jd < td.last; ++jd)
      for (int64_t jh = th.first; jh < th.last; ++jh) {
        const int64_t row = rows.tap_offset(jd, jh, 0);
        if constexpr (kThirdTapCopied) {
          const float* src = plane + (at + row);
          const float* third = lanes.of(src + 2);
          const auto t0 = static_cast<int32_t>(row);
#pragma GCC unroll 1
          for (int64_t i = 0; i < B; ++i) {
            float b = best[i];
            int32_t t = tap[i];
            take_max(src[2 * i], t0, b, t);
            take_max(src[2 * i + 1], t0 + 1, b, t);
            take_max(third[2 * i], t0 + 2, b, t);
            best[i] = b;
            tap[i] = t;
          }
        } else if constexpr (Width) {
          const float* src = plane + (at + row);
#pragma GCC unroll 1  // to vectorise: unrolled into scalars first, it would not be
          for (int64_t i = 0; i < B; ++i) {
            float b = best[i];
            int32_t t = tap[i];
            for (int jw = 0; jw < Width; ++jw) take_max(src[i * stride() + jw], static_cast<int32_t>(row + jw), b, t);
            best[i] = b;
            tap[i] = t;
          }
        } else {
          for (int64_t jw = 0; jw < rows.g.axes[2].kernel; ++jw) {
            const int64_t offset = row + jw * rows.g.axes[2].dilation;
            const float* src = lanes.of(plane + (at + offset));
#pragma GCC unroll 1
            for (int64_t i = 0; i < B; ++i) take_max(src[i * stride()], static_cast<int32_t>(offset), best[i], tap[i]);
          }
        }
      }
    // Kept loops (unroll 1), so they vectorise whole; unrolled first, the
    // index loop became scalar inserts from the stack.
#pragma GCC unroll 1
    for (int64_t i = 0; i < B; ++i) y[c + i] = best[i];
    if constexpr (Indexed) {
#pragma GCC unroll 1
      for (int64_t i = 0; i < B; ++i) indices[c + i] = at + i * stride() + tap[i];
    }
  }
};

// Max pool output rows [first, last) of all planes.
template <int Stride, int Width, bool Indexed>
MININN_MULTIVERSIONED_TEMPLATE void max_rows(const Rows& rows, float* y, int64_t* indices, int64_t first,
                                             int64_t last) {
  const Geometry& g = rows.g;
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane(), out_w = g.axes[2].out;
  RowCursor at(g, first);
  for (int64_t r = first; r < last; ++r, at.next()) {
    const int64_t o = at.p * out_plane + (at.od * at.out_h + at.oh) * out_w;
    const MaxRow<Stride, Width, Indexed> row{rows,
                                             rows.x + at.p * in_plane,
                                             y + o,
                                             Indexed ? indices + o : nullptr,
                                             taps(g.axes[0], at.od),
                                             taps(g.axes[1], at.oh),
                                             rows.origin(at.od, at.oh)};
    const Interior w = row.copies_past_end() ? Interior{} : rows.w;  // the last row of all: one window at a time
    for (int64_t ow = 0; ow < w.lo; ++ow) row.window(ow);
    for (int64_t ow = w.hi; ow < out_w; ++ow) row.window(ow);
    in_blocks(row, w.lo, w.hi);
  }
}

template <bool Indexed>
using MaxRows = void (*)(const Rows&, float*, int64_t*, int64_t, int64_t);

// The rows function for the W axis: strides 1 and 2, and windows 2 or 3
// wide without dilation, specialised.
template <bool Indexed>
MaxRows<Indexed> pick_max_rows(const Axis& w) {
  const int width = w.dilation == 1 && (w.kernel == 2 || w.kernel == 3) ? static_cast<int>(w.kernel) : 0;
  if (w.stride == 1 && width == 2) return max_rows<1, 2, Indexed>;
  if (w.stride == 1 && width == 3) return max_rows<1, 3, Indexed>;
  if (w.stride == 1) return max_rows<1, 0, Indexed>;
  if (w.stride == 2 && width == 2) return max_rows<2, 2, Indexed>;
  if (w.stride == 2 && width == 3) return max_rows<2, 3, Indexed>;
  if (w.stride == 2) return max_rows<2, 0, Indexed>;
  return max_rows<0, 0, Indexed>;
}

// ---------------------------------------------------------------------------
// Average

// One output row (plane, od, oh) of an average pool; Width as for MaxRow.
template <int Stride, int Width>
struct AvgRow {
  const Rows& rows;
  const AvgOptions& options;
  const float* plane;
  float* y;
  AvgSpan d, h;         // the window's real cells along D and H
  float inner_divisor;  // of every window inside the input along W

  // Along W; a constant when specialised, so the vectoriser knows it.
  int64_t stride() const { return Stride ? Stride : rows.stride(); }

  const float* row_of(int64_t id, int64_t ih) const {
    return plane + (id * rows.g.axes[1].in + ih) * rows.g.axes[2].in;
  }

  // A window cut by the padding along W: alone, as the reference does it.
  [[gnu::always_inline]] void window(int64_t ow) const {
    const AvgSpan w = avg_span(rows.g.axes[2], ow);
    float sum = 0;
    for (int64_t id = d.lo; id < d.hi; ++id)
      for (int64_t ih = h.lo; ih < h.hi; ++ih)
        for (int64_t iw = w.lo; iw < w.hi; ++iw) sum += row_of(id, ih)[iw];
    y[ow] = sum / divisor(options, d, h, w);
  }

  // Stride 2: whether the blocks' copies (Lanes) would read past the input's
  // end, which is one element after the last tap of the row's last output.
  bool copies_past_end() const {
    if constexpr (Stride != 2 || Width) return false;
    const Axis& aw = rows.g.axes[2];
    const float* last = row_of(d.hi - 1, h.hi - 1) + ((rows.w.hi - 1) * stride() - aw.pad + aw.kernel - 1);
    return rows.end - last <= 1;
  }

  // Outputs [c, c + B), whose windows lie inside the input along W: the
  // sums from 0, one tap after the other (with a Width, a row's taps in one
  // step, as in MaxRow::block).
  template <int64_t B>
  [[gnu::always_inline]] void block(int64_t c) const {
    const int64_t kernel = rows.g.axes[2].kernel, start = c * stride() - rows.g.axes[2].pad;
    float sum[B] = {};
    Lanes<Width ? 1 : Stride, B> lanes;
    for (int64_t id = d.lo; id < d.hi; ++id)
      for (int64_t ih = h.lo; ih < h.hi; ++ih) {
        const float* row = row_of(id, ih) + start;
        if constexpr (Width) {
#pragma GCC unroll 1
          for (int64_t i = 0; i < B; ++i) {
            float s = sum[i];
            for (int jw = 0; jw < Width; ++jw) s += row[i * stride() + jw];
            sum[i] = s;
          }
        } else {
          for (int64_t jw = 0; jw < kernel; ++jw) {
            const float* src = lanes.of(row + jw);
#pragma GCC unroll 1
            for (int64_t i = 0; i < B; ++i) sum[i] += src[i * stride()];
          }
        }
      }
    for (int64_t i = 0; i < B; ++i) y[c + i] = sum[i] / inner_divisor;
  }
};

// Average pool output rows [first, last) of all planes.
template <int Stride, int Width>
MININN_MULTIVERSIONED_TEMPLATE void avg_rows(const Rows& rows, const AvgOptions& options, float* y,
                                             int64_t first, int64_t last) {
  const Geometry& g = rows.g;
  const Axis& aw = g.axes[2];
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
  RowCursor at(g, first);
  for (int64_t r = first; r < last; ++r, at.next()) {
    const AvgSpan d = avg_span(g.axes[0], at.od), h = avg_span(g.axes[1], at.oh);
    const float inner = divisor(options, d, h, AvgSpan{0, aw.kernel, aw.kernel});
    const AvgRow<Stride, Width> row{
        rows, options, rows.x + at.p * in_plane, y + at.p * out_plane + (at.od * at.out_h + at.oh) * aw.out, d,
        h,    inner};
    const Interior w = row.copies_past_end() ? Interior{} : rows.w;  // the last row of all: one window at a time
    for (int64_t ow = 0; ow < w.lo; ++ow) row.window(ow);
    for (int64_t ow = w.hi; ow < aw.out; ++ow) row.window(ow);
    in_blocks(row, w.lo, w.hi);
  }
}

using AvgRows = void (*)(const Rows&, const AvgOptions&, float*, int64_t, int64_t);

AvgRows pick_avg_rows(const Axis& w) {
  const int width = w.kernel == 2 || w.kernel == 3 ? static_cast<int>(w.kernel) : 0;
  if (w.stride == 1 && width == 2) return avg_rows<1, 2>;
  if (w.stride == 1 && width == 3) return avg_rows<1, 3>;
  if (w.stride == 1) return avg_rows<1, 0>;
  if (w.stride == 2 && width == 2) return avg_rows<2, 2>;
  if (w.stride == 2) return avg_rows<2, 0>;
  return avg_rows<0, 0>;
}

// ---------------------------------------------------------------------------
// Average backward

// The reference zeroes gx and adds every window's share, gy / divisor, to
// its cells. When windows do not overlap (kernel <= stride on every axis) a
// cell receives at most one share, so its gradient is 0 + share, or 0: each
// input row is written once, in order, and rows split between threads.
// (0 + share rather than share: the sum turns a -0 share into +0.)
struct SpreadRow {
  const Geometry& g;
  const AvgOptions& options;
  float* gx;            // the input row
  const float* gy;      // the output row of the window row covering it
  AvgSpan d, h;         // that window row's spans along D and H
  float inner_divisor;  // of its windows lying inside the input along W

  // One window cut by the padding along W.
  [[gnu::always_inline]] void window(int64_t ow) const {
    const AvgSpan w = avg_span(g.axes[2], ow);
    const float share = 0.0f + gy[ow] / divisor(options, d, h, w);
    for (int64_t iw = w.lo; iw < w.hi; ++iw) gx[iw] = share;
  }
};

// Input rows [first, last) of all planes; Width: the W kernel when it equals
// the stride, 2 (stores of interleaved pairs), 0 for any other.
template <int Width>
MININN_MULTIVERSIONED_TEMPLATE void spread_rows(const Geometry& g, const AvgOptions& options,
                                                const Interior& inner, const float* gy, float* gx, int64_t first,
                                                int64_t last) {
  const Axis &ad = g.axes[0], &ah = g.axes[1], &aw = g.axes[2];
  const int64_t out_plane = g.out_plane();
  // The window along an axis that covers input position i, or -1.
  auto covering = [](const Axis& a, int64_t i) {
    const int64_t o = (i + a.pad) / a.stride;
    return (i + a.pad) % a.stride < a.kernel && o < a.out ? o : -1;
  };
  for (int64_t r = first; r < last; ++r) {
    const int64_t ih = r % ah.in, id = r / ah.in % ad.in, p = r / (ah.in * ad.in);
    float* row = gx + r * aw.in;
    std::fill(row, row + aw.in, 0.0f);
    const int64_t od = covering(ad, id), oh = covering(ah, ih);
    if (od < 0 || oh < 0) continue;
    const AvgSpan d = avg_span(ad, od), h = avg_span(ah, oh);
    const float* gy_row = gy + p * out_plane + (od * ah.out + oh) * aw.out;
    const float inner_divisor = divisor(options, d, h, AvgSpan{0, aw.kernel, aw.kernel});
    const SpreadRow spread{g, options, row, gy_row, d, h, inner_divisor};
    for (int64_t ow = 0; ow < inner.lo; ++ow) spread.window(ow);
    for (int64_t ow = inner.hi; ow < aw.out; ++ow) spread.window(ow);
    float* at = row + (inner.lo * aw.stride - aw.pad);
    for (int64_t ow = inner.lo; ow < inner.hi; ++ow, at += Width ? Width : aw.stride) {
      const float share = 0.0f + spread.gy[ow] / spread.inner_divisor;
      for (int64_t j = 0; j < (Width ? Width : aw.kernel); ++j) at[j] = share;
    }
  }
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
  const Rows rows{g, interior(g.axes[2]), x, x + g.planes * g.in_plane()};
  if (!covered(g, rows.w)) return false;
  if (indices) {
    const MaxRows<true> run = pick_max_rows<true>(g.axes[2]);
    split_rows(g, [&](int64_t first, int64_t last) { run(rows, y, indices, first, last); });
  } else {
    const MaxRows<false> run = pick_max_rows<false>(g.axes[2]);
    split_rows(g, [&](int64_t first, int64_t last) { run(rows, y, nullptr, first, last); });
  }
  return true;
}

bool avg_forward(const Geometry& g, const AvgOptions& options, const float* x, float* y) {
  if (g.planes == 0) return true;
  const Rows rows{g, interior(g.axes[2]), x, x + g.planes * g.in_plane()};
  if (!covered(g, rows.w)) return false;
  const AvgRows run = pick_avg_rows(g.axes[2]);
  split_rows(g, [&](int64_t first, int64_t last) { run(rows, options, y, first, last); });
  return true;
}

bool avg_backward(const Geometry& g, const AvgOptions& options, const float* gy, float* gx) {
  if (g.planes == 0) return true;
  for (const Axis& a : g.axes)
    if (a.kernel > a.stride) return false;  // overlapping windows: the reference's sums
  const Interior inner = interior(g.axes[2]);
  const int64_t rows = g.planes * g.axes[0].in * g.axes[1].in;
  const bool pairs = g.axes[2].kernel == 2 && g.axes[2].stride == 2;
  auto run = pairs ? spread_rows<2> : spread_rows<0>;
#pragma omp parallel if (parallel_worth(g.work()))
  {
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
    run(g, options, inner, gy, gx, rows * t / threads, rows * (t + 1) / threads);
  }
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
