// Tensor comparison for the conformance runner: what "exact" and "close" mean,
// and a one-line description of the first mismatching element.
#pragma once

#include "framework/tensor.h"

#include <string>

namespace mininn::conformance {

enum class Compare {
  Exact,  // the same value in every element (NaN where the reference has NaN)
  Close,  // within kRelativeTolerance, see compare.cpp
};

// The relative tolerance of Compare::Close.
inline constexpr double kRelativeTolerance = 1e-5;

// Empty when `got` matches `want`; else what differs: the shape or dtype, or
// the first mismatching element with its multi-index, both values and how
// many elements differ.
std::string compare(const Tensor& got, const Tensor& want, Compare mode);

}  // namespace mininn::conformance
