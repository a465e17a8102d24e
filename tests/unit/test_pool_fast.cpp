// The fast paths of the naive pooling kernels (ops/pool/naive_fast.cpp)
// against the reference loops they replace (ops/pool/naive.cpp): hundreds of
// random geometries in 1d/2d/3d — kernel, stride, padding, dilation,
// ceil_mode, sizes from 1 up to rows of hundreds of outputs, one to several
// planes — over ties, NaN, -inf and signed zeros. Max values and indices,
// averages and both backwards must be bit-identical.
#include "ops/pool/naive.h"
#include "ops/pool/naive_fast.h"
#include "ops/pool/pool.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdio>
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

// Each kind stresses one rule: ties (small integers), NaN (wins, last one's
// index), -inf (all -inf windows keep their first tap), signed zeros (0 + -0
// is +0 in a sum), plain floats (rounding of the sums).
enum class Content { Integers, Uniform, NaN, MinusInf, AllNaN, AllMinusInf, Zeros };
constexpr Content kContents[] = {Content::Integers, Content::Integers,    Content::Uniform,
                                 Content::Uniform,  Content::NaN,         Content::MinusInf,
                                 Content::AllNaN,   Content::AllMinusInf, Content::Zeros};

std::vector<float> make_input(int64_t count, Content content, std::mt19937& rng) {
  std::vector<float> x(static_cast<size_t>(count));
  std::uniform_real_distribution<float> u(0, 1);
  for (float& v : x) {
    v = content == Content::Uniform ? u(rng) * 2 - 1 : static_cast<float>(pick(rng, -3, 3));
    if (content == Content::NaN && u(rng) < 0.05f) v = kNaN;
    if (content == Content::MinusInf && u(rng) < 0.6f) v = -kInf;
    if (content == Content::AllNaN) v = kNaN;
    if (content == Content::AllMinusInf) v = -kInf;
    if (content == Content::Zeros) v = u(rng) < 0.5f ? 0.0f : -0.0f;
  }
  return x;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b)); }

// A random valid pool: a window (max: with dilation) and an input shape
// (batch, channels, *spatial) PyTorch accepts.
struct Config {
  int rank = 2;
  Shape shape;
  Window window;
  Geometry g;
  std::string text;
};

// `apart`: windows that do not overlap (stride >= kernel) in most draws.
Config random_config(std::mt19937& rng, bool dilation, bool apart = false) {
  for (;;) {
    Config c;
    c.rank = pick(rng, 1, 3);
    c.shape = {pick(rng, 1, 2), pick(rng, 1, 3)};
    for (int i = 0; i < c.rank; ++i) {
      // Mostly small planes; sometimes rows longer than a vector chunk (512 outputs).
      const int long_row = c.rank == 1 ? 1500 : c.rank == 2 ? 1100 : 40;
      const int extent = pick(rng, 0, 7) == 0 ? pick(rng, 1, long_row) : pick(rng, 1, c.rank == 3 ? 9 : 17);
      c.shape.push_back(extent);
      const int k = pick(rng, 0, 2) ? pick(rng, 1, 3) : pick(rng, 1, 6);
      c.window.kernel.push_back(k);
      c.window.stride.push_back(pick(rng, 0, 2) ? pick(rng, 1, 2) : pick(rng, 1, 5));
      c.window.padding.push_back(pick(rng, 0, k / 2));
      c.window.dilation.push_back(dilation && pick(rng, 0, 2) == 0 ? pick(rng, 2, 3) : 1);
    }
    c.window.ceil_mode = pick(rng, 0, 1) == 1;
    if (apart && pick(rng, 0, 9) < 7)
      for (int i = 0; i < c.rank; ++i) c.window.stride[i] = std::max(c.window.stride[i], c.window.kernel[i]);
    try {
      check_window(c.window, split(c.shape, c.rank), "pool");
    } catch (const Error&) {
      continue;  // PyTorch refuses it (or mininn's documented deviation): draw again
    }
    c.g = sliding(c.shape, c.window);
    c.text = "input " + to_string(c.shape) + " kernel " + to_string(c.window.kernel) + " stride " +
             to_string(c.window.stride) + " padding " + to_string(c.window.padding) + " dilation " +
             to_string(c.window.dilation) + (c.window.ceil_mode ? " ceil_mode" : "");
    return c;
  }
}

int64_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_bits(a[i], b[i])) return static_cast<int64_t>(i);
  return -1;
}

struct Tally {
  int ran = 0, fast = 0;
};

// Forward with and without indices, fast path against reference; true when
// the fast path covered the configuration.
bool check_max(const Config& c, Content content, std::mt19937& rng) {
  const Geometry& g = c.g;
  const std::vector<float> x = make_input(g.planes * g.in_plane(), content, rng);
  const size_t out = static_cast<size_t>(g.planes * g.out_plane());
  std::vector<float> y_ref(out), y_fast(out, 12345.0f), y_plain(out, 12345.0f);
  std::vector<int64_t> i_ref(out), i_fast(out, -7);
  reference::max_forward(g, x.data(), y_ref.data(), i_ref.data());
  if (!fast::max_forward(g, x.data(), y_fast.data(), i_fast.data())) return false;
  EXPECT_TRUE(fast::max_forward(g, x.data(), y_plain.data(), nullptr));
  int64_t at = first_difference(y_fast, y_ref);
  EXPECT_EQ(at, -1) << c.text << ": value " << y_fast[at] << " != " << y_ref[at] << " at " << at;
  at = first_difference(y_plain, y_ref);
  EXPECT_EQ(at, -1) << c.text << " (no indices): value " << y_plain[at] << " != " << y_ref[at] << " at " << at;
  for (size_t o = 0; o < out; ++o)
    if (i_fast[o] != i_ref[o]) {
      ADD_FAILURE() << c.text << ": index " << i_fast[o] << " != " << i_ref[o] << " at " << o;
      break;
    }
  return true;
}

bool check_avg(const Config& c, Content content, std::mt19937& rng) {
  const Geometry& g = c.g;
  AvgOptions options;
  options.count_include_pad = pick(rng, 0, 1) == 1;
  if (c.rank > 1 && pick(rng, 0, 5) == 0)
    options.divisor_override = pick(rng, 0, 1) ? pick(rng, 1, 9) : -pick(rng, 1, 3);
  const std::vector<float> x = make_input(g.planes * g.in_plane(), content, rng);
  const size_t out = static_cast<size_t>(g.planes * g.out_plane());
  std::vector<float> y_ref(out), y_fast(out, 12345.0f);
  reference::avg_forward(g, options, x.data(), y_ref.data());
  if (!fast::avg_forward(g, options, x.data(), y_fast.data())) return false;
  int64_t at = first_difference(y_fast, y_ref);
  EXPECT_EQ(at, -1) << c.text << (options.count_include_pad ? " count_include_pad" : "") << " divisor_override "
                    << options.divisor_override << ": " << y_fast[at] << " != " << y_ref[at] << " at " << at;
  // Backward, with the forward's outputs as upstream gradients.
  std::vector<float> gx_ref(x.size()), gx_fast(x.size(), 12345.0f);
  reference::avg_backward(g, options, y_ref.data(), gx_ref.data());
  if (fast::avg_backward(g, options, y_ref.data(), gx_fast.data())) {
    at = first_difference(gx_fast, gx_ref);
    EXPECT_EQ(at, -1) << c.text << " backward: " << gx_fast[at] << " != " << gx_ref[at] << " at " << at;
  }
  return true;
}

TEST(PoolFast, MaxForwardMatchesReference) {
  std::mt19937 rng(2024);
  Tally tally;
  for (int i = 0; i < 800; ++i) {
    const Config c = random_config(rng, true);
    ++tally.ran;
    tally.fast += check_max(c, kContents[pick(rng, 0, std::size(kContents) - 1)], rng);
    if (HasFailure()) return;
  }
  std::printf("[ fast     ] MaxPool: %d configurations, %d on the fast path\n", tally.ran, tally.fast);
  EXPECT_GT(tally.fast, tally.ran * 6 / 10);
}

TEST(PoolFast, AvgForwardMatchesReference) {
  std::mt19937 rng(4048);
  Tally tally;
  for (int i = 0; i < 800; ++i) {
    const Config c = random_config(rng, false);
    ++tally.ran;
    const Content content = pick(rng, 0, 3) == 0 ? kContents[pick(rng, 0, std::size(kContents) - 1)] : Content::Uniform;
    tally.fast += check_avg(c, content, rng);
    if (HasFailure()) return;
  }
  std::printf("[ fast     ] AvgPool: %d configurations, %d on the fast path\n", tally.ran, tally.fast);
  EXPECT_GT(tally.fast, tally.ran * 6 / 10);
}

// Average backward where windows do not overlap (each cell takes one share).
TEST(PoolFast, AvgBackwardMatchesReference) {
  std::mt19937 rng(8096);
  Tally tally;
  for (int i = 0; i < 600; ++i) {
    const Config c = random_config(rng, false, true);
    const Geometry& g = c.g;
    AvgOptions options;
    options.count_include_pad = pick(rng, 0, 1) == 1;
    if (c.rank > 1 && pick(rng, 0, 5) == 0) options.divisor_override = pick(rng, 0, 1) ? pick(rng, 1, 9) : -3;
    const Content content = pick(rng, 0, 3) == 0 ? kContents[pick(rng, 0, std::size(kContents) - 1)] : Content::Uniform;
    const std::vector<float> gy = make_input(g.planes * g.out_plane(), content, rng);
    std::vector<float> gx_ref(static_cast<size_t>(g.planes * g.in_plane())), gx_fast(gx_ref.size(), 12345.0f);
    reference::avg_backward(g, options, gy.data(), gx_ref.data());
    ++tally.ran;
    if (!fast::avg_backward(g, options, gy.data(), gx_fast.data())) continue;
    ++tally.fast;
    const int64_t at = first_difference(gx_fast, gx_ref);
    ASSERT_EQ(at, -1) << c.text << (options.count_include_pad ? " count_include_pad" : "") << " divisor_override "
                      << options.divisor_override << ": " << gx_fast[at] << " != " << gx_ref[at] << " at " << at;
  }
  std::printf("[ fast     ] AvgPool backward: %d configurations, %d on the fast path\n", tally.ran, tally.fast);
  EXPECT_GT(tally.fast, tally.ran / 2);
}

// The common geometries the fast paths are for, each at a size that takes
// threads (rows split between them) and over every kind of content.
TEST(PoolFast, CommonGeometriesOnThreads) {
  std::mt19937 rng(77);
  struct Case {
    Shape shape;
    std::vector<int64_t> kernel, stride, padding, dilation;
    bool ceil;
  };
  const Case cases[] = {
      {{1, 2, 508, 508}, {2, 2}, {2, 2}, {0, 0}, {1, 1}, false},              // the seed's max pool
      {{1, 2, 254, 254}, {2, 2}, {2, 2}, {0, 0}, {1, 1}, false},              // the seed's average pool
      {{1, 1, 301, 257}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, true},               // odd sizes, padding, ceil
      {{2, 3, 96, 96}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, false},                // stride 1
      {{1, 4, 60, 61}, {2, 2}, {2, 2}, {0, 0}, {2, 2}, false},                // dilation
      {{1, 2, 9, 40, 41}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0}, {1, 1, 1}, true},  // 3-d ceil overhang
      {{3, 5, 5000}, {3}, {2}, {1}, {1}, false},                              // 1-d
  };
  const int threads = omp_get_max_threads();
  omp_set_num_threads(std::max(threads, 2));
  for (const Case& k : cases)
    for (Content content : kContents) {
      Config c;
      c.rank = static_cast<int>(k.kernel.size());
      c.shape = k.shape;
      c.window = {k.kernel, k.stride, k.padding, k.dilation, k.ceil};
      c.g = sliding(c.shape, c.window);
      c.text = "input " + to_string(c.shape) + " kernel " + to_string(k.kernel);
      EXPECT_TRUE(check_max(c, content, rng)) << c.text;
      c.window.dilation.assign(k.kernel.size(), 1);
      c.g = sliding(c.shape, c.window);
      EXPECT_TRUE(check_avg(c, content, rng)) << c.text;
    }
  omp_set_num_threads(threads);
}

// Max backward with fewer planes than threads splits planes into bands of
// cells: the same sums, in the same order, as the reference's plane loop.
TEST(PoolFast, MaxBackwardBandsMatchReference) {
  std::mt19937 rng(99);
  const int threads = omp_get_max_threads();
  int fast = 0;
  for (int i = 0; i < 60; ++i) {
    const int team = pick(rng, 2, 5);
    omp_set_num_threads(team);
    Config c = random_config(rng, true);
    c.shape[0] = 1;
    c.shape[1] = pick(rng, 1, team - 1);
    c.shape[c.shape.size() - 1] = pick(rng, 300, 600);  // enough work for threads
    if (c.rank > 1) c.shape[c.shape.size() - 2] = pick(rng, 60, 200);
    try {
      check_window(c.window, split(c.shape, c.rank), "pool");
    } catch (const Error&) {
      continue;
    }
    c.g = sliding(c.shape, c.window);
    const Geometry& g = c.g;
    const std::vector<float> x = make_input(g.planes * g.in_plane(), Content::Integers, rng);
    const size_t out = static_cast<size_t>(g.planes * g.out_plane()), in = x.size();
    std::vector<float> y(out), gy(out), gx_ref(in), gx_fast(in, kNaN);
    std::vector<int64_t> indices(out);
    reference::max_forward(g, x.data(), y.data(), indices.data());
    std::uniform_real_distribution<float> u(-1, 1);
    for (float& v : gy) v = u(rng);
    reference::max_backward(g, gy.data(), indices.data(), gx_ref.data());
    if (!fast::max_backward(g, gy.data(), indices.data(), gx_fast.data())) continue;
    ++fast;
    const int64_t at = first_difference(gx_fast, gx_ref);
    EXPECT_EQ(at, -1) << c.text << ": " << gx_fast[at] << " != " << gx_ref[at] << " at " << at;
  }
  omp_set_num_threads(threads);
  EXPECT_GT(fast, 30);
}

}  // namespace
}  // namespace mininn::pool
