#include "compare.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <vector>

namespace mininn::conformance {
namespace {

std::string multi_index(const Shape& shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return fmt::format("[{}]", fmt::join(index, ", "));
}

// Why `got` is not close to `want`, for one element (empty when it is).
//
// The references are exact to ~1e-16 (torch ran in float64), so the
// tolerance only covers mininn's float32 arithmetic: a sum of n terms
// rounded in float32 is off by about sqrt(n) * 2^-24 of the terms' magnitude
// (n * 2^-24 in the worst case). The scale is |want| plus the largest |want|
// of the tensor, because an element that is a small difference of large
// terms (a convolution output near zero, a gradient that cancels) carries the
// rounding error of those terms, not of its own size, and the largest element
// bounds the terms' size for the ops here (averages, convolutions and their
// gradients of O(1) data). The largest sums in the cases have a few hundred
// terms: sqrt(300) * 2^-24 ~ 1e-6, so 1e-5 leaves a 10x margin, while any
// wrong divisor, missed tap or misplaced window errs by a whole term (>= 1e-2
// relative) and fails.
bool close(float got, float want, double scale) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  if (std::isinf(want) || std::isinf(got)) return got == want;
  return std::fabs(static_cast<double>(got) - want) <= kRelativeTolerance * (std::fabs(static_cast<double>(want)) + scale);
}

}  // namespace

std::string compare(const Tensor& got, const Tensor& want, Compare mode) {
  if (!got.defined()) return "mininn produced nothing";
  if (got.dtype() != want.dtype() || got.shape() != want.shape())
    return fmt::format("got {}, expected {}", to_string(got.desc()), to_string(want.desc()));
  const int64_t n = want.numel();
  int64_t first = -1, differing = 0;
  std::string first_text;
  if (want.dtype() == DType::Int64) {
    const int64_t *a = got.i64(), *b = want.i64();
    for (int64_t i = 0; i < n; ++i) {
      if (a[i] == b[i]) continue;
      if (first < 0) first = i, first_text = fmt::format("got {}, expected {}", a[i], b[i]);
      ++differing;
    }
  } else {
    const float *a = got.f32(), *b = want.f32();
    double scale = 0;
    for (int64_t i = 0; i < n; ++i)
      if (std::isfinite(b[i])) scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
    for (int64_t i = 0; i < n; ++i) {
      bool ok = mode == Compare::Exact ? (a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) : close(a[i], b[i], scale);
      if (ok) continue;
      if (first < 0) {
        first = i;
        first_text = fmt::format("got {}, expected {}", a[i], b[i]);
        if (mode == Compare::Close && std::isfinite(a[i]) && std::isfinite(b[i]))
          first_text += fmt::format(" (difference {:.3g}, tolerance {:.3g})", std::fabs(double(a[i]) - b[i]),
                                    kRelativeTolerance * (std::fabs(double(b[i])) + scale));
      }
      ++differing;
    }
  }
  if (first < 0) return "";
  return fmt::format("element {} (flat {}): {}; {} of {} elements differ", multi_index(want.shape(), first), first,
                     first_text, differing, n);
}

}  // namespace mininn::conformance
