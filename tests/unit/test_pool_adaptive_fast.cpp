// The fast adaptive-pool kernels (16 planes per AVX-512 vector, the global
// average) against the plain per-plane loops they replace
// (ops/pool/naive_adaptive.h): hundreds of seeded random configurations in
// 1d/2d/3d — plane counts around multiples of 16, sizes of 1, outputs
// larger than inputs, not dividing them or empty, NaN, -inf, ties, signed
// zeros, an empty batch — compared bit for bit: values, indices and
// gradients. Without AVX-512 both sides run the plain loops. And MaxUnpool
// (its index check now runs in parallel blocks) against its semantics
// written out: duplicates, and the first bad index's error.
#include "framework/error.h"
#include "framework/simd.h"
#include "ops/pool/naive.h"
#include "ops/pool/naive_adaptive.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace mininn::pool {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

int pick(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

// What the values of a random input stress.
enum class Content { Normal, Ties, NaN, MinusInf, AllMinusInf, AllNaN, SignedZeros };
const char* content_name(Content c) {
  static const char* names[] = {"normal", "ties", "nan", "-inf", "all -inf", "all nan", "signed zeros"};
  return names[static_cast<int>(c)];
}

std::vector<float> random_values(int64_t count, Content content, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) {
    x = normal(rng);
    switch (content) {
      case Content::Ties:
        x = static_cast<float>(pick(rng, -2, 2));
        break;
      case Content::NaN:
        if (u(rng) < 0.1f) x = kNaN;
        break;
      case Content::MinusInf:
        if (u(rng) < 0.5f) x = -kInf;
        break;
      case Content::AllMinusInf:
        x = -kInf;
        break;
      case Content::AllNaN:
        x = kNaN;
        break;
      case Content::SignedZeros:
        x = u(rng) < 0.5f ? -0.0f : 0.0f;
        break;
      default:
        break;
    }
  }
  return v;
}

Content random_content(std::mt19937& rng) { return static_cast<Content>(pick(rng, 0, 6)); }

// A random adaptive geometry: plane counts around multiples of 16 (so that
// whole groups and leftovers both occur), rarely none; sizes from 1, up to
// planes larger than the lanes' scratch; outputs from 0 (empty) and 1 (a
// global pool) to more than the input.
Geometry random_geometry(std::mt19937& rng) {
  static const int plane_counts[] = {0, 1, 5, 15, 16, 17, 31, 32, 33, 48, 50};
  Geometry g;
  g.planes = plane_counts[pick(rng, 0, std::size(plane_counts) - 1)];
  const int rank = pick(rng, 1, 3);
  const int largest = pick(rng, 0, 9) == 0 ? (rank == 1 ? 9000 : rank == 2 ? 95 : 21) : (rank == 3 ? 7 : 24);
  for (int i = 3 - rank; i < 3; ++i) {
    Axis& a = g.axes[i];
    a.in = pick(rng, 1, largest);
    const int kind = pick(rng, 0, 40);
    a.out = kind < 4     ? 1
            : kind < 8   ? a.in
            : kind < 12  ? a.in + pick(rng, 1, 4)
            : kind == 12 ? 0  // an empty output
                         : pick(rng, 1, std::max<int>(1, a.in));
  }
  if (pick(rng, 0, 4) == 0)  // a global pool
    for (Axis& a : g.axes) a.out = 1;
  return g;
}

std::string describe(const Geometry& g) {
  std::string text = std::to_string(g.planes) + " planes,";
  for (const Axis& a : g.axes) text += " " + std::to_string(a.in) + "->" + std::to_string(a.out);
  return text;
}

// Bit-identical floats; every NaN equals every NaN.
bool same_bits(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0; }

::testing::AssertionResult same_floats(const std::vector<float>& got, const std::vector<float>& want) {
  for (size_t i = 0; i < want.size(); ++i)
    if (!same_bits(got[i], want[i]))
      return ::testing::AssertionFailure() << "element " << i << ": " << got[i] << " instead of " << want[i];
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult same_indices(const std::vector<int64_t>& got, const std::vector<int64_t>& want) {
  for (size_t i = 0; i < want.size(); ++i)
    if (got[i] != want[i])
      return ::testing::AssertionFailure() << "index " << i << ": " << got[i] << " instead of " << want[i];
  return ::testing::AssertionSuccess();
}

// Outputs start as NaN (and -1): a kernel must write every element.
std::vector<float> poisoned(int64_t count) { return std::vector<float>(static_cast<size_t>(count), kNaN); }

// The random configurations below reach the 16-plane kernels often, and the
// plain loops too (leftover planes, large planes, fewer than 16 planes).
// Without AVX-512 the plain loops run everywhere, and the tests below
// compare them with themselves.
TEST(FastAdaptivePool, RandomConfigurationsReachTheLanes) {
  std::mt19937 rng(20261204);
  int on_lanes = 0, plain = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const Geometry g = random_geometry(rng);
    (adaptive_avg_on_lanes(g) ? on_lanes : plain) += 1;
  }
  if (cpu_has_avx512()) {
    EXPECT_GT(on_lanes, 150);
    EXPECT_GT(plain, 100);
  } else {
    EXPECT_EQ(on_lanes, 0);
  }
}

TEST(FastAdaptivePool, AverageForwardAndBackwardAreTheReferenceBitForBit) {
  std::mt19937 rng(20261204);
  for (int trial = 0; trial < 400; ++trial) {
    const Geometry g = random_geometry(rng);
    const Content content = random_content(rng);
    const int64_t in = g.planes * g.in_plane(), out = g.planes * g.out_plane();
    SCOPED_TRACE(describe(g) + ", " + content_name(content) + " values, trial " + std::to_string(trial));
    const std::vector<float> x = random_values(in, content, rng), gy = random_values(out, content, rng);

    std::vector<float> y = poisoned(out), y_reference = poisoned(out);
    adaptive_avg_forward(g, x.data(), y.data());
    scalar::adaptive_avg_forward(g, x.data(), y_reference.data());
    EXPECT_TRUE(same_floats(y, y_reference)) << "forward";

    if (g.out_plane() == 0) continue;  // backward refuses an empty output (the op checks first)
    std::vector<float> gx = poisoned(in), gx_reference = poisoned(in);
    adaptive_avg_backward(g, gy.data(), gx.data());
    scalar::adaptive_avg_backward(g, gy.data(), gx_reference.data());
    EXPECT_TRUE(same_floats(gx, gx_reference)) << "backward";
  }
}

TEST(FastAdaptivePool, MaxValuesAndIndicesAreTheReferenceBitForBit) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    const Geometry g = random_geometry(rng);
    const Content content = random_content(rng);
    const int64_t in = g.planes * g.in_plane(), out = g.planes * g.out_plane();
    SCOPED_TRACE(describe(g) + ", " + content_name(content) + " values, trial " + std::to_string(trial));
    const std::vector<float> x = random_values(in, content, rng);

    std::vector<float> y = poisoned(out), y_reference = poisoned(out);
    std::vector<int64_t> indices(static_cast<size_t>(out), -1), indices_reference(static_cast<size_t>(out), -1);
    adaptive_max_forward(g, x.data(), y.data(), indices.data());
    scalar::adaptive_max_forward(g, x.data(), y_reference.data(), indices_reference.data());
    EXPECT_TRUE(same_floats(y, y_reference)) << "values";
    EXPECT_TRUE(same_indices(indices, indices_reference)) << "indices";

    std::vector<float> y_alone = poisoned(out);  // without indices (inference)
    adaptive_max_forward(g, x.data(), y_alone.data(), nullptr);
    EXPECT_TRUE(same_floats(y_alone, y_reference)) << "values without indices";
  }
}

// Spec §11 and §5 golden values through the fast kernels: 16 copies of a
// plane run on lanes, and each must give the documented result.
TEST(FastAdaptivePool, GoldenValuesOnEveryLane) {
  Geometry g;
  g.planes = 16;
  g.axes[1] = {.in = 4, .out = 3};
  g.axes[2] = {.in = 4, .out = 3};
  std::vector<float> x(16 * 16);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 16);
  std::vector<float> y(16 * 9);
  std::vector<int64_t> indices(16 * 9);
  adaptive_avg_forward(g, x.data(), y.data());
  const float avg[] = {2.5, 3.5, 4.5, 6.5, 7.5, 8.5, 10.5, 11.5, 12.5};
  for (int p = 0; p < 16; ++p)
    for (int o = 0; o < 9; ++o) EXPECT_EQ(y[p * 9 + o], avg[o]) << "plane " << p << " output " << o;
  adaptive_max_forward(g, x.data(), y.data(), indices.data());
  const float max[] = {5, 6, 7, 9, 10, 11, 13, 14, 15};
  for (int p = 0; p < 16; ++p)
    for (int o = 0; o < 9; ++o) {
      EXPECT_EQ(y[p * 9 + o], max[o]) << "plane " << p << " output " << o;
      EXPECT_EQ(indices[p * 9 + o], static_cast<int64_t>(max[o])) << "plane " << p << " output " << o;
    }
  // A NaN wins and the last NaN's index stays; an all -inf window keeps its first cell.
  g.axes[1] = {.in = 1, .out = 1};
  g.axes[2] = {.in = 5, .out = 2};  // windows [0, 3) and [2, 5)
  x.assign(16 * 5, -kInf);
  for (int p = 0; p < 16; ++p) x[p * 5 + 3] = x[p * 5 + 4] = kNaN;
  adaptive_max_forward(g, x.data(), y.data(), indices.data());
  for (int p = 0; p < 16; ++p) {
    EXPECT_EQ(y[p * 2], -kInf);
    EXPECT_EQ(indices[p * 2], 0);
    EXPECT_TRUE(std::isnan(y[p * 2 + 1]));
    EXPECT_EQ(indices[p * 2 + 1], 4);
  }
}

// ------------------------------------------------------------- MaxUnpool

Geometry random_unpool_geometry(std::mt19937& rng) {
  static const int plane_counts[] = {0, 1, 3, 16, 17, 40};
  Geometry g;
  g.planes = plane_counts[pick(rng, 0, std::size(plane_counts) - 1)];
  const int rank = pick(rng, 1, 3);
  for (int i = 3 - rank; i < 3; ++i) {
    g.axes[i].in = pick(rng, 1, rank == 3 ? 5 : 12);
    g.axes[i].out = g.axes[i].in * pick(rng, 1, 3) + pick(rng, 0, 2);
  }
  return g;
}

// Indices of a plane: unique ones as a MaxPool makes them, or duplicates
// from a small range (the last write wins).
std::vector<int64_t> random_unpool_indices(const Geometry& g, bool duplicates, std::mt19937& rng) {
  const int64_t out_plane = g.out_plane(), in_plane = g.in_plane();
  std::vector<int64_t> indices;
  for (int64_t p = 0; p < g.planes; ++p) {
    std::vector<int64_t> cells(static_cast<size_t>(out_plane));
    for (int64_t i = 0; i < out_plane; ++i) cells[i] = i;
    std::shuffle(cells.begin(), cells.end(), rng);
    for (int64_t j = 0; j < in_plane; ++j)
      indices.push_back(duplicates ? pick(rng, 0, static_cast<int>(std::min<int64_t>(out_plane, 4)) - 1) : cells[j]);
  }
  return indices;
}

// MaxUnpool's semantics, written out: zeros, then every value at its index
// in order (the last of duplicates wins).
std::vector<float> unpool_reference(const Geometry& g, const std::vector<float>& x, const std::vector<int64_t>& indices) {
  const size_t in_plane = static_cast<size_t>(g.in_plane()), out_plane = static_cast<size_t>(g.out_plane());
  std::vector<float> y(static_cast<size_t>(g.planes) * out_plane, 0.0f);
  for (size_t j = 0; j < x.size(); ++j) y[j / in_plane * out_plane + static_cast<size_t>(indices[j])] = x[j];
  return y;
}

TEST(FastMaxUnpool, ForwardIsTheReferenceIncludingDuplicates) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const Geometry g = random_unpool_geometry(rng);
    const bool duplicates = trial % 2 == 1;
    SCOPED_TRACE(describe(g) + (duplicates ? ", duplicate indices" : "") + ", trial " + std::to_string(trial));
    const int64_t in = g.planes * g.in_plane(), out = g.planes * g.out_plane();
    const std::vector<float> x = random_values(in, random_content(rng), rng);
    const std::vector<int64_t> indices = random_unpool_indices(g, duplicates, rng);
    std::vector<float> y = poisoned(out);
    unpool_forward(g, x.data(), indices.data(), y.data());
    EXPECT_TRUE(same_floats(y, unpool_reference(g, x, indices)));
  }
}

TEST(FastMaxUnpool, DuplicateIndicesKeepTheLastWrite) {
  Geometry g;
  g.planes = 20;
  g.axes[2] = {.in = 4, .out = 6};
  std::vector<float> x(80);
  std::vector<int64_t> indices(80);
  for (int p = 0; p < 20; ++p)
    for (int j = 0; j < 4; ++j) {
      x[p * 4 + j] = static_cast<float>(p * 10 + j);
      indices[p * 4 + j] = j < 3 ? 5 : 0;  // positions 0..2 all write cell 5
    }
  std::vector<float> y = poisoned(120);
  unpool_forward(g, x.data(), indices.data(), y.data());
  for (int p = 0; p < 20; ++p) {
    EXPECT_EQ(y[p * 6 + 5], static_cast<float>(p * 10 + 2));
    EXPECT_EQ(y[p * 6 + 0], static_cast<float>(p * 10 + 3));
    for (int c = 1; c < 5; ++c) EXPECT_EQ(y[p * 6 + c], 0.0f);
  }
}

// The first index out of range in memory order is the one reported, with
// PyTorch's message, wherever the threads find theirs; nothing is written.
TEST(FastMaxUnpool, OutOfRangeIndicesRaiseTheSameError) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 60; ++trial) {
    Geometry g = random_unpool_geometry(rng);
    if (g.planes == 0) g.planes = 17;
    if (trial % 4 == 0) g.planes = 400;  // blocks of indices checked on several threads
    std::vector<int64_t> indices = random_unpool_indices(g, false, rng);
    const int64_t count = static_cast<int64_t>(indices.size());
    const int64_t first = pick(rng, 0, static_cast<int>(count) - 1);
    indices[first] = pick(rng, 0, 1) ? -1 : g.out_plane() + pick(rng, 0, 3);
    if (first + 1 < count && pick(rng, 0, 1)) indices[pick(rng, static_cast<int>(first) + 1, static_cast<int>(count) - 1)] = -7;
    SCOPED_TRACE(describe(g) + ", bad index at " + std::to_string(first));

    std::string size;
    for (const Axis& axis : g.axes)
      if (!size.empty() || axis.out != 1) size += (size.empty() ? "" : "x") + std::to_string(axis.out);
    if (size.empty()) size = "1";
    const std::string expected = "Found an invalid max index: " + std::to_string(indices[first]) +
                                 " (output volumes are of size " + size + ") at position " + std::to_string(first) +
                                 " of the indices";
    const std::vector<float> x = random_values(count, Content::Normal, rng);
    std::vector<float> y = poisoned(g.planes * g.out_plane());
    try {
      unpool_forward(g, x.data(), indices.data(), y.data());
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), expected);
    }
    EXPECT_TRUE(std::all_of(y.begin(), y.end(), [](float v) { return std::isnan(v); })) << "written before the check";
  }
}

}  // namespace
}  // namespace mininn::pool
