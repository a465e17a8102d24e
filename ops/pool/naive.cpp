#include "ops/pool/naive.h"

#include "framework/error.h"
#include "framework/parallel.h"
#include "ops/pool/naive_fast.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace mininn::pool {
namespace {

constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

// The taps of every output position along one axis, computed once per call.
std::vector<Taps> all_taps(const Axis& axis) {
  std::vector<Taps> out(axis.out);
  for (int64_t o = 0; o < axis.out; ++o) out[o] = taps(axis, o);
  return out;
}

std::vector<AvgSpan> all_spans(const Axis& axis) {
  std::vector<AvgSpan> out(axis.out);
  for (int64_t o = 0; o < axis.out; ++o) out[o] = avg_span(axis, o);
  return out;
}

}  // namespace

void max_forward(const Geometry& g, const float* x, float* y, int64_t* indices) {
  if (!fast::max_forward(g, x, y, indices)) reference::max_forward(g, x, y, indices);
}

void max_backward(const Geometry& g, const float* gy, const int64_t* indices, float* gx) {
  if (!fast::max_backward(g, gy, indices, gx)) reference::max_backward(g, gy, indices, gx);
}

void reference::max_forward(const Geometry& g, const float* x, float* y, int64_t* indices) {
  const Axis &ad = g.axes[0], &ah = g.axes[1], &aw = g.axes[2];
  const std::vector<Taps> td = all_taps(ad), th = all_taps(ah), tw = all_taps(aw);
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    int64_t* ip = indices ? indices + p * out_plane : nullptr;
    int64_t o = 0;
    for (int64_t od = 0; od < ad.out; ++od)
      for (int64_t oh = 0; oh < ah.out; ++oh)
        for (int64_t ow = 0; ow < aw.out; ++ow, ++o) {
          // The index starts at the first tap inside the input (PyTorch).
          int64_t d0 = ad.start(od), h0 = ah.start(oh), w0 = aw.start(ow);
          float best = kMinusInf;
          int64_t arg = ((d0 + td[od].first * ad.dilation) * ah.in + h0 + th[oh].first * ah.dilation) * aw.in + w0 +
                        tw[ow].first * aw.dilation;
          for (int64_t jd = td[od].first; jd < td[od].last; ++jd) {
            int64_t id = d0 + jd * ad.dilation;
            for (int64_t jh = th[oh].first; jh < th[oh].last; ++jh) {
              int64_t row = (id * ah.in + h0 + jh * ah.dilation) * aw.in;
              for (int64_t jw = tw[ow].first; jw < tw[ow].last; ++jw) {
                int64_t at = row + w0 + jw * aw.dilation;
                float v = xp[at];
                if (v > best || std::isnan(v)) {
                  best = v;
                  arg = at;
                }
              }
            }
          }
          yp[o] = best;
          if (ip) ip[o] = arg;
        }
  }
}

void reference::max_backward(const Geometry& g, const float* gy, const int64_t* indices, float* gx) {
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    float* gp = gx + p * in_plane;
    std::memset(gp, 0, sizeof(float) * in_plane);
    const float* gyp = gy + p * out_plane;
    const int64_t* ip = indices + p * out_plane;
    for (int64_t o = 0; o < out_plane; ++o) gp[ip[o]] += gyp[o];
  }
}

namespace {

using Spans = std::array<std::vector<AvgSpan>, 3>;  // the window boxes along D, H, W

// With no planes (an empty batch) no window is visited, and a plane's sizes
// may be far too large to list their windows: then there are none.
Spans sliding_spans(const Geometry& g) {
  if (g.planes == 0) return {};
  return {all_spans(g.axes[0]), all_spans(g.axes[1]), all_spans(g.axes[2])};
}

// For every output o: y[o] = finish(sum of the window box, d, h, w), summed
// in row-major order as PyTorch does.
template <typename Finish>
void box_sum_forward(const Geometry& g, const Spans& spans, const float* x, float* y, Finish finish) {
  const int64_t in_h = g.axes[1].in, in_w = g.axes[2].in;
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    int64_t o = 0;
    for (const AvgSpan& d : spans[0])
      for (const AvgSpan& h : spans[1])
        for (const AvgSpan& w : spans[2]) {
          float sum = 0;
          for (int64_t id = d.lo; id < d.hi; ++id)
            for (int64_t ih = h.lo; ih < h.hi; ++ih) {
              const float* row = xp + (id * in_h + ih) * in_w;
              for (int64_t iw = w.lo; iw < w.hi; ++iw) sum += row[iw];
            }
          yp[o++] = finish(sum, d, h, w);
        }
  }
}

// gx = 0, then every cell of window o's box gets delta(gy[o], d, h, w).
template <typename Delta>
void box_spread_backward(const Geometry& g, const Spans& spans, const float* gy, float* gx, Delta delta) {
  const int64_t in_h = g.axes[1].in, in_w = g.axes[2].in;
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    float* gp = gx + p * in_plane;
    std::memset(gp, 0, sizeof(float) * in_plane);
    const float* gyp = gy + p * out_plane;
    int64_t o = 0;
    for (const AvgSpan& d : spans[0])
      for (const AvgSpan& h : spans[1])
        for (const AvgSpan& w : spans[2]) {
          float share = delta(gyp[o++], d, h, w);
          for (int64_t id = d.lo; id < d.hi; ++id)
            for (int64_t ih = h.lo; ih < h.hi; ++ih) {
              float* row = gp + (id * in_h + ih) * in_w;
              for (int64_t iw = w.lo; iw < w.hi; ++iw) row[iw] += share;
            }
        }
  }
}

}  // namespace

float divisor(const AvgOptions& options, const AvgSpan& d, const AvgSpan& h, const AvgSpan& w) {
  if (options.divisor_override) return static_cast<float>(options.divisor_override);
  if (options.count_include_pad) return static_cast<float>(d.padded * h.padded * w.padded);
  return static_cast<float>((d.hi - d.lo) * (h.hi - h.lo) * (w.hi - w.lo));
}

void avg_forward(const Geometry& g, const AvgOptions& options, const float* x, float* y) {
  if (!fast::avg_forward(g, options, x, y)) reference::avg_forward(g, options, x, y);
}

void reference::avg_forward(const Geometry& g, const AvgOptions& options, const float* x, float* y) {
  box_sum_forward(g, sliding_spans(g), x, y,
                  [&](float sum, const AvgSpan& d, const AvgSpan& h, const AvgSpan& w) { return sum / divisor(options, d, h, w); });
}

void avg_backward(const Geometry& g, const AvgOptions& options, const float* gy, float* gx) {
  if (!fast::avg_backward(g, options, gy, gx)) reference::avg_backward(g, options, gy, gx);
}

void reference::avg_backward(const Geometry& g, const AvgOptions& options, const float* gy, float* gx) {
  box_spread_backward(g, sliding_spans(g), gy, gx,
                      [&](float grad, const AvgSpan& d, const AvgSpan& h, const AvgSpan& w) { return grad / divisor(options, d, h, w); });
}

}  // namespace mininn::pool
