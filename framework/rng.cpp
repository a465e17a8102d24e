#include "framework/rng.h"

#include "framework/error.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

// Floating-point note: every fused multiply-add below is written as std::fma
// because torch's AVX2 build has one there; every other product and sum is a
// separate statement so that no compiler setting can fuse it behind our back.

namespace mininn {
namespace {

// ---- Box–Muller in float, as torch's normal_fill_16_AVX2 ----------------
//
// torch evaluates log, sin and cos with the Cephes polynomials of
// avx_mathfun.h, not with libm. The transcription below is one lane of
// those routines; where GCC contracted a product and a sum into an FMA
// when compiling torch, we use std::fma. Which pairs are fused was settled
// by comparing against torch over all 2^24 possible uniform inputs.

constexpr float kSqrtHalf = 0.707106781186547524f;

float cephes_log(float x) {
  x = std::max(x, std::numeric_limits<float>::min());  // no subnormals
  uint32_t bits = std::bit_cast<uint32_t>(x);
  float exponent = static_cast<float>(static_cast<int32_t>(bits >> 23) - 127);
  exponent = exponent + 1.0f;
  float mantissa = std::bit_cast<float>((bits & ~0x7f800000u) | 0x3f000000u);  // in [0.5, 1)
  // Both branches are exact: x - 1 and 2x - 1 for x in [0.5, 1).
  if (mantissa < kSqrtHalf) {
    exponent = exponent - 1.0f;
    float shifted = mantissa - 1.0f;
    x = shifted + mantissa;
  } else {
    x = mantissa - 1.0f;
  }
  float z = x * x;
  float y = 7.0376836292e-2f;
  for (float coefficient : {-1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f, 1.4249322787e-1f, -1.6668057665e-1f,
                            2.0000714765e-1f, -2.4999993993e-1f, 3.3333331174e-1f}) {
    y = std::fma(y, x, coefficient);
  }
  y = y * x;
  float exponent_low = exponent * -2.12194440e-4f;
  y = std::fma(y, z, exponent_low);
  y = std::fma(-z, 0.5f, y);
  float sum = x + y;
  return std::fma(exponent, 0.693359375f, sum);
}

// sin and cos of x >= 0 (here x = 2*pi*u < 2*pi), as sincos256_ps.
void cephes_sincos(float x, float& sin_out, float& cos_out) {
  float scaled = x * 1.27323954473516f;  // 4 / pi
  int32_t octant = static_cast<int32_t>(scaled);
  octant = (octant + 1) & ~1;
  float y = static_cast<float>(octant);
  uint32_t sin_sign = static_cast<uint32_t>(octant & 4) << 29;
  uint32_t cos_sign = static_cast<uint32_t>(~(octant - 2) & 4) << 29;
  bool sin_uses_sine_polynomial = (octant & 2) == 0;

  // Extended-precision reduction x - y * pi/4, pi/4 split in three parts.
  x = std::fma(y, -0.78515625f, x);
  x = std::fma(y, -2.4187564849853515625e-4f, x);
  x = std::fma(y, -3.77489497744594108e-8f, x);
  float z = x * x;

  float cosine = 2.443315711809948e-5f;
  cosine = std::fma(cosine, z, -1.388731625493765e-3f);
  cosine = std::fma(cosine, z, 4.166664568298827e-2f);
  cosine = cosine * z;
  float half_z = z * 0.5f;
  cosine = std::fma(cosine, z, -half_z);
  cosine = cosine + 1.0f;

  float sine = -1.9515295891e-4f;
  sine = std::fma(sine, z, 8.3321608736e-3f);
  sine = std::fma(sine, z, -1.6666654611e-1f);
  sine = sine * z;
  sine = std::fma(sine, x, x);

  // The select is done with masks and additions of +0 in torch; doing the
  // same keeps the sign of a zero identical.
  float sin_from_cosine = sin_uses_sine_polynomial ? 0.0f : cosine;
  float sin_from_sine = sin_uses_sine_polynomial ? sine : 0.0f;
  float sin_value = sin_from_cosine + sin_from_sine;
  float cos_value = (cosine - sin_from_cosine) + (sine - sin_from_sine);
  sin_out = std::bit_cast<float>(std::bit_cast<uint32_t>(sin_value) ^ sin_sign);
  cos_out = std::bit_cast<float>(std::bit_cast<uint32_t>(cos_value) ^ cos_sign);
}

// Turns 16 uniforms in [0, 1) into 16 normals in place.
void box_muller_16(float* block, float mean, float stddev) {
  const float two_pi = static_cast<float>(2.0 * std::numbers::pi);
  for (int j = 0; j < 8; ++j) {
    float u1 = 1.0f - block[j];  // (0, 1] for the log
    float u2 = block[j + 8];
    float minus_two_log = -2.0f * cephes_log(u1);
    float radius = std::sqrt(minus_two_log);
    float theta = two_pi * u2;
    float sine = 0;
    float cosine = 0;
    cephes_sincos(theta, sine, cosine);
    float n1 = radius * cosine;
    float n2 = radius * sine;
    block[j] = std::fma(n1, stddev, mean);
    block[j + 8] = std::fma(n2, stddev, mean);
  }
}

}  // namespace

Generator::Generator(uint64_t seed) { manual_seed(seed); }

void Generator::manual_seed(uint64_t seed) {
  // torch keeps the 64-bit seed for reporting but seeds mt19937 with its low half.
  state_[0] = static_cast<uint32_t>(seed);
  for (int i = 1; i < kStateSize; ++i) {
    uint32_t previous = state_[i - 1];
    state_[i] = 1812433253u * (previous ^ (previous >> 30)) + static_cast<uint32_t>(i);
  }
  next_ = kStateSize;  // twist before the first draw
  has_cached_normal_ = false;
  cached_normal_ = 0;
}

void Generator::set_state(std::span<const uint32_t> words, int next) {
  check(words.size() == kStateSize, "mt19937 state needs {} words, got {}", kStateSize, words.size());
  check(next >= 0 && next <= kStateSize, "mt19937 state index {} is outside 0..{}", next, kStateSize);
  std::copy(words.begin(), words.end(), state_);
  next_ = next;
  has_cached_normal_ = false;
}

void Generator::twist() {
  constexpr int kShift = 397;
  constexpr uint32_t kMatrix = 0x9908b0dfu;
  auto mix = [](uint32_t upper, uint32_t lower, uint32_t far) {
    uint32_t y = (upper & 0x80000000u) | (lower & 0x7fffffffu);
    return far ^ (y >> 1) ^ ((y & 1u) ? kMatrix : 0u);
  };
  for (int i = 0; i < kStateSize; ++i) {
    state_[i] = mix(state_[i], state_[(i + 1) % kStateSize], state_[(i + kShift) % kStateSize]);
  }
  next_ = 0;
}

uint32_t Generator::random() {
  if (next_ >= kStateSize) twist();
  uint32_t y = state_[next_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint64_t Generator::random64() {
  uint64_t high = random();
  uint64_t low = random();
  return (high << 32) | low;
}

float Generator::uniform_unit_float() { return static_cast<float>(random() & 0xFFFFFFu) * (1.0f / 16777216.0f); }

void Generator::uniform(std::span<float> out, double from, double to) {
  check(from <= to, "uniform expects a [from, to) range, but from={} > to={}", from, to);
  float low = static_cast<float>(from);
  float range = static_cast<float>(to) - low;
  check(std::isfinite(range), "uniform range [{}, {}) is too wide for float32", from, to);
  for (float& value : out) value = std::fma(uniform_unit_float(), range, low);
}

double Generator::normal_double() {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    return cached_normal_;
  }
  constexpr double kUnit = 1.0 / 9007199254740992.0;  // 2^-53
  double u1 = static_cast<double>(random64() & ((uint64_t{1} << 53) - 1)) * kUnit;
  double u2 = static_cast<double>(random64() & ((uint64_t{1} << 53) - 1)) * kUnit;
  double minus_two_log = -2.0 * std::log(1.0 - u2);
  double radius = std::sqrt(minus_two_log);
  double theta = 2.0 * std::numbers::pi * u1;
  cached_normal_ = radius * std::sin(theta);
  has_cached_normal_ = true;
  return radius * std::cos(theta);
}

void Generator::normal(std::span<float> out, double mean, double stddev) {
  check(stddev >= 0.0, "normal expects std >= 0, but found std={}", stddev);
  const size_t size = out.size();
  if (size < 16) {
    for (float& value : out) value = static_cast<float>(std::fma(normal_double(), stddev, mean));
    return;
  }
  // All uniforms are drawn first, then transformed 16 at a time; a ragged
  // tail redraws 16 fresh uniforms for the last 16 elements.
  const float mean_f = static_cast<float>(mean);
  const float std_f = static_cast<float>(stddev);
  for (float& value : out) value = uniform_unit_float();
  for (size_t i = 0; i + 16 <= size; i += 16) box_muller_16(out.data() + i, mean_f, std_f);
  if (size % 16 != 0) {
    float* tail = out.data() + size - 16;
    for (int i = 0; i < 16; ++i) tail[i] = uniform_unit_float();
    box_muller_16(tail, mean_f, std_f);
  }
}

void Generator::randperm(std::span<int64_t> out) {
  const int64_t n = static_cast<int64_t>(out.size());
  for (int64_t i = 0; i < n; ++i) out[i] = i;
  for (int64_t i = 0; i + 1 < n; ++i) {
    int64_t z = static_cast<int64_t>(random() % static_cast<uint64_t>(n - i));
    std::swap(out[i], out[z + i]);
  }
}

}  // namespace mininn
