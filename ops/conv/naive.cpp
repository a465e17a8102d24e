#include "ops/conv/conv.h"

#include "framework/parallel.h"

#include <cstring>
#include <vector>

namespace mininn::conv {
namespace {

// Source rows and columns of every (output position, tap) pair, computed once
// per call: -1 marks a zero (padding in 'zeros' mode).
struct TapMap {
  std::vector<int64_t> rows, cols;  // [out_h][kernel_h], [out_w][kernel_w]

  explicit TapMap(const Geometry& g) : rows(g.out_h * g.kernel_h), cols(g.out_w * g.kernel_w) {
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t a = 0; a < g.kernel_h; ++a)
        rows[oh * g.kernel_h + a] = source_index(oh * g.stride_h - g.pad_top + a * g.dilation_h, g.in_h, g.mode);
    for (int64_t ow = 0; ow < g.out_w; ++ow)
      for (int64_t b = 0; b < g.kernel_w; ++b)
        cols[ow * g.kernel_w + b] = source_index(ow * g.stride_w - g.pad_left + b * g.dilation_w, g.in_w, g.mode);
  }
};

}  // namespace

void naive_forward(const Geometry& g, const float* x, const float* w, const float* bias, float* y) {
  const TapMap map(g);
  const int64_t cg = g.in_per_group(), og = g.out_per_group();
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const int64_t w_per_out = cg * g.kernel_h * g.kernel_w;
#pragma omp parallel for collapse(2) schedule(static) if (parallel_worth(g.macs()))
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      const int64_t group = oc / og;
      const float* wo = w + oc * w_per_out;
      float* yp = y + (n * g.out_channels + oc) * out_plane;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          double sum = bias ? bias[oc] : 0.0;
          for (int64_t c = 0; c < cg; ++c) {
            const float* xp = x + (n * g.in_channels + group * cg + c) * in_plane;
            const float* wc = wo + c * g.kernel_h * g.kernel_w;
            for (int64_t a = 0; a < g.kernel_h; ++a) {
              int64_t r = map.rows[oh * g.kernel_h + a];
              if (r < 0) continue;
              for (int64_t b = 0; b < g.kernel_w; ++b) {
                int64_t col = map.cols[ow * g.kernel_w + b];
                if (col >= 0) sum += double(wc[a * g.kernel_w + b]) * xp[r * g.in_w + col];
              }
            }
          }
          yp[oh * g.out_w + ow] = static_cast<float>(sum);
        }
    }
}

void naive_backward(const Geometry& g, const float* x, const float* w, const float* gy, float* gx, float* gw,
                    float* gb) {
  const TapMap map(g);
  const int64_t cg = g.in_per_group(), og = g.out_per_group();
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const int64_t w_per_out = cg * g.kernel_h * g.kernel_w;

  if (gx) {
    // Scatter: images are independent, so they run in parallel. Padded taps
    // under reflect/replicate/circular send their gradient to their source.
#pragma omp parallel for schedule(static) if (parallel_worth(g.macs()))
    for (int64_t n = 0; n < g.batch; ++n) {
      std::vector<double> acc(g.in_channels * in_plane, 0.0);
      for (int64_t oc = 0; oc < g.out_channels; ++oc) {
        const int64_t group = oc / og;
        const float* gyp = gy + (n * g.out_channels + oc) * out_plane;
        for (int64_t c = 0; c < cg; ++c) {
          double* ap = acc.data() + (group * cg + c) * in_plane;
          const float* wc = w + oc * w_per_out + c * g.kernel_h * g.kernel_w;
          for (int64_t oh = 0; oh < g.out_h; ++oh)
            for (int64_t a = 0; a < g.kernel_h; ++a) {
              int64_t r = map.rows[oh * g.kernel_h + a];
              if (r < 0) continue;
              for (int64_t ow = 0; ow < g.out_w; ++ow) {
                double grad = gyp[oh * g.out_w + ow];
                for (int64_t b = 0; b < g.kernel_w; ++b) {
                  int64_t col = map.cols[ow * g.kernel_w + b];
                  if (col >= 0) ap[r * g.in_w + col] += grad * wc[a * g.kernel_w + b];
                }
              }
            }
        }
      }
      float* gxp = gx + n * g.in_channels * in_plane;
      for (int64_t i = 0; i < g.in_channels * in_plane; ++i) gxp[i] = static_cast<float>(acc[i]);
    }
  }

  if (gw) {
#pragma omp parallel for schedule(static) if (parallel_worth(g.macs()))
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      const int64_t group = oc / og;
      for (int64_t c = 0; c < cg; ++c)
        for (int64_t a = 0; a < g.kernel_h; ++a)
          for (int64_t b = 0; b < g.kernel_w; ++b) {
            double sum = 0;
            for (int64_t n = 0; n < g.batch; ++n) {
              const float* xp = x + (n * g.in_channels + group * cg + c) * in_plane;
              const float* gyp = gy + (n * g.out_channels + oc) * out_plane;
              for (int64_t oh = 0; oh < g.out_h; ++oh) {
                int64_t r = map.rows[oh * g.kernel_h + a];
                if (r < 0) continue;
                for (int64_t ow = 0; ow < g.out_w; ++ow) {
                  int64_t col = map.cols[ow * g.kernel_w + b];
                  if (col >= 0) sum += double(gyp[oh * g.out_w + ow]) * xp[r * g.in_w + col];
                }
              }
            }
            gw[oc * w_per_out + (c * g.kernel_h + a) * g.kernel_w + b] = static_cast<float>(sum);
          }
    }
  }

  if (gb) {
    for (int64_t oc = 0; oc < g.out_channels; ++oc) {
      double sum = 0;
      for (int64_t n = 0; n < g.batch; ++n) {
        const float* gyp = gy + (n * g.out_channels + oc) * out_plane;
        for (int64_t i = 0; i < out_plane; ++i) sum += gyp[i];
      }
      gb[oc] = static_cast<float>(sum);
    }
  }
}

}  // namespace mininn::conv
