#include "ops/pool/naive.h"

#include "framework/error.h"
#include "framework/parallel.h"

#include <algorithm>
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

// Adaptive windows as [lo, hi) spans (padded = hi - lo).
std::vector<AvgSpan> adaptive_spans(const Axis& axis) {
  std::vector<AvgSpan> out(axis.out);
  for (int64_t o = 0; o < axis.out; ++o) {
    int64_t lo = adaptive_start(o, axis.in, axis.out), hi = adaptive_end(o, axis.in, axis.out);
    out[o] = {lo, hi, hi - lo};
  }
  return out;
}

// Max over the box [lo, hi) of every axis of one plane, PyTorch's scan:
// row-major, strict '>', a NaN always wins (so the last NaN's index stays).
inline void box_max(const float* plane, int64_t in_h, int64_t in_w, const AvgSpan& d, const AvgSpan& h,
                    const AvgSpan& w, float& best, int64_t& arg) {
  best = kMinusInf;
  arg = (d.lo * in_h + h.lo) * in_w + w.lo;
  for (int64_t id = d.lo; id < d.hi; ++id)
    for (int64_t ih = h.lo; ih < h.hi; ++ih) {
      int64_t row = (id * in_h + ih) * in_w;
      for (int64_t iw = w.lo; iw < w.hi; ++iw) {
        float v = plane[row + iw];
        if (v > best || std::isnan(v)) {
          best = v;
          arg = row + iw;
        }
      }
    }
}

}  // namespace

void max_forward(const Geometry& g, const float* x, float* y, int64_t* indices) {
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

void max_backward(const Geometry& g, const float* gy, const int64_t* indices, float* gx) {
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

static int64_t divisor(const AvgOptions& options, const AvgSpan& d, const AvgSpan& h, const AvgSpan& w) {
  if (options.divisor_override) return options.divisor_override;
  if (options.count_include_pad) return d.padded * h.padded * w.padded;
  return (d.hi - d.lo) * (h.hi - h.lo) * (w.hi - w.lo);
}

void avg_forward(const Geometry& g, const AvgOptions& options, const float* x, float* y) {
  const Axis &ad = g.axes[0], &ah = g.axes[1], &aw = g.axes[2];
  const std::vector<AvgSpan> sd = all_spans(ad), sh = all_spans(ah), sw = all_spans(aw);
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    int64_t o = 0;
    for (int64_t od = 0; od < ad.out; ++od)
      for (int64_t oh = 0; oh < ah.out; ++oh)
        for (int64_t ow = 0; ow < aw.out; ++ow, ++o) {
          const AvgSpan &d = sd[od], &h = sh[oh], &w = sw[ow];
          float sum = 0;
          for (int64_t id = d.lo; id < d.hi; ++id)
            for (int64_t ih = h.lo; ih < h.hi; ++ih) {
              const float* row = xp + (id * ah.in + ih) * aw.in;
              for (int64_t iw = w.lo; iw < w.hi; ++iw) sum += row[iw];
            }
          yp[o] = sum / static_cast<float>(divisor(options, d, h, w));
        }
  }
}

void avg_backward(const Geometry& g, const AvgOptions& options, const float* gy, float* gx) {
  const Axis &ad = g.axes[0], &ah = g.axes[1], &aw = g.axes[2];
  const std::vector<AvgSpan> sd = all_spans(ad), sh = all_spans(ah), sw = all_spans(aw);
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    float* gp = gx + p * in_plane;
    std::memset(gp, 0, sizeof(float) * in_plane);
    const float* gyp = gy + p * out_plane;
    int64_t o = 0;
    for (int64_t od = 0; od < ad.out; ++od)
      for (int64_t oh = 0; oh < ah.out; ++oh)
        for (int64_t ow = 0; ow < aw.out; ++ow, ++o) {
          const AvgSpan &d = sd[od], &h = sh[oh], &w = sw[ow];
          float delta = gyp[o] / static_cast<float>(divisor(options, d, h, w));
          for (int64_t id = d.lo; id < d.hi; ++id)
            for (int64_t ih = h.lo; ih < h.hi; ++ih) {
              float* row = gp + (id * ah.in + ih) * aw.in;
              for (int64_t iw = w.lo; iw < w.hi; ++iw) row[iw] += delta;
            }
        }
  }
}

void adaptive_avg_forward(const Geometry& g, const float* x, float* y) {
  const Axis &ad = g.axes[0], &ah = g.axes[1], &aw = g.axes[2];
  const std::vector<AvgSpan> sd = adaptive_spans(ad), sh = adaptive_spans(ah), sw = adaptive_spans(aw);
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* xp = x + p * in_plane;
    float* yp = y + p * out_plane;
    int64_t o = 0;
    for (int64_t od = 0; od < ad.out; ++od)
      for (int64_t oh = 0; oh < ah.out; ++oh)
        for (int64_t ow = 0; ow < aw.out; ++ow, ++o) {
          const AvgSpan &d = sd[od], &h = sh[oh], &w = sw[ow];
          float sum = 0;
          for (int64_t id = d.lo; id < d.hi; ++id)
            for (int64_t ih = h.lo; ih < h.hi; ++ih) {
              const float* row = xp + (id * ah.in + ih) * aw.in;
              for (int64_t iw = w.lo; iw < w.hi; ++iw) sum += row[iw];
            }
          // PyTorch divides by each window extent in turn, not by the area.
          yp[o] = sum / static_cast<float>(d.padded) / static_cast<float>(h.padded) / static_cast<float>(w.padded);
        }
  }
}

void adaptive_avg_backward(const Geometry& g, const float* gy, float* gx) {
  const Axis &ad = g.axes[0], &ah = g.axes[1], &aw = g.axes[2];
  const std::vector<AvgSpan> sd = adaptive_spans(ad), sh = adaptive_spans(ah), sw = adaptive_spans(aw);
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    float* gp = gx + p * in_plane;
    std::memset(gp, 0, sizeof(float) * in_plane);
    const float* gyp = gy + p * out_plane;
    int64_t o = 0;
    for (int64_t od = 0; od < ad.out; ++od)
      for (int64_t oh = 0; oh < ah.out; ++oh)
        for (int64_t ow = 0; ow < aw.out; ++ow, ++o) {
          const AvgSpan &d = sd[od], &h = sh[oh], &w = sw[ow];
          float delta = gyp[o] / static_cast<float>(d.padded) / static_cast<float>(h.padded) / static_cast<float>(w.padded);
          for (int64_t id = d.lo; id < d.hi; ++id)
            for (int64_t ih = h.lo; ih < h.hi; ++ih) {
              float* row = gp + (id * ah.in + ih) * aw.in;
              for (int64_t iw = w.lo; iw < w.hi; ++iw) row[iw] += delta;
            }
        }
  }
}

void adaptive_max_forward(const Geometry& g, const float* x, float* y, int64_t* indices) {
  const Axis &ad = g.axes[0], &ah = g.axes[1], &aw = g.axes[2];
  const std::vector<AvgSpan> sd = adaptive_spans(ad), sh = adaptive_spans(ah), sw = adaptive_spans(aw);
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
          float best;
          int64_t arg;
          box_max(xp, ah.in, aw.in, sd[od], sh[oh], sw[ow], best, arg);
          yp[o] = best;
          if (ip) ip[o] = arg;
        }
  }
}

void check_unpool_indices(const Geometry& g, const int64_t* indices) {
  const int64_t out_plane = g.out_plane();
  const int64_t count = g.planes * g.in_plane();
  int64_t bad_at = -1;
  for (int64_t j = 0; j < count; ++j) {
    if (indices[j] < 0 || indices[j] >= out_plane) {
      bad_at = j;
      break;
    }
  }
  if (bad_at >= 0) {
    std::string size;
    for (const Axis& axis : g.axes)
      if (!size.empty() || axis.out != 1) size += (size.empty() ? "" : "x") + std::to_string(axis.out);
    if (size.empty()) size = "1";
    fail("Found an invalid max index: {} (output volumes are of size {}) at position {} of the indices",
         indices[bad_at], size, bad_at);
  }
}

void unpool_forward(const Geometry& g, const float* x, const int64_t* indices, float* y) {
  check_unpool_indices(g, indices);
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    float* yp = y + p * out_plane;
    std::memset(yp, 0, sizeof(float) * out_plane);
    const float* xp = x + p * in_plane;
    const int64_t* ip = indices + p * in_plane;
    for (int64_t j = 0; j < in_plane; ++j) yp[ip[j]] = xp[j];  // in order: the last duplicate wins
  }
}

void unpool_backward(const Geometry& g, const float* gy, const int64_t* indices, float* gx) {
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (parallel_worth(g.work()))
  for (int64_t p = 0; p < g.planes; ++p) {
    const float* gyp = gy + p * out_plane;
    const int64_t* ip = indices + p * in_plane;
    float* gp = gx + p * in_plane;
    for (int64_t j = 0; j < in_plane; ++j) gp[j] = gyp[ip[j]];
  }
}

}  // namespace mininn::pool
